package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The staging shadow run: scores the most recent window of a source version with the candidate and, when there is
 * one, the champion (the production model) on the very same rows, appends both models' scores to the
 * {@link PredictionsTable} in one commit (same run key, each tagged with its model version), and compares them
 * (see {@link ShadowReport}).
 *
 * <p>The prepared window is cached first, so each model's time is its own score-and-aggregate pass over the same
 * cached rows. A retry with the same run key writes nothing and returns the earlier commit ({@code committed ==
 * false}); its comparison is computed again from the source version that commit scored (even if the caller passes a
 * newer one), which yields the same figures (only the times are the retry's).
 *
 * <p>Arguments of {@link #main}: {@code --spec <yaml> (--table <path> | --lake <root>) [--source-version N]
 * [--time-column C --window-days D] --candidate <PipelineModel path> --candidate-version V
 * [--champion <PipelineModel path> --champion-version W] --predictions <table path> --run-key K
 * [--scored-at <ISO-8601 instant>] [--report <path>]}. Without {@code --time-column} the whole table is scored; without
 * {@code --source-version} the table's latest version when the job starts. The report's result is the
 * {@link ShadowReport} plus {@code sourceVersion}, the source version the job was asked to score (given or latest).
 */
public final class ShadowComparisonJob {
    private static final ObjectMapper REPORT_FIELDS = new ObjectMapper();
    private static final String CANDIDATE_SCORE = "__candidate_score";
    private static final String CHAMPION_SCORE = "__champion_score";

    private ShadowComparisonJob() {}

    public static ShadowReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
            ScoringModel candidate, ScoringModel champion, String predictionsTablePath, String runKey) {
        return run(spark, spec, source, window, candidate, champion, predictionsTablePath, runKey, Instant.now());
    }

    /** As the other {@code run} with the run's {@code scored_at} given; {@code champion} may be null. */
    public static ShadowReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
            ScoringModel candidate, ScoringModel champion, String predictionsTablePath, String runKey, Instant scoredAt) {
        OptionalLong earlier = PredictionsTable.committedVersion(spark, predictionsTablePath, runKey);
        DatasetVersion read = earlier.isPresent()
                ? PredictionsTable.committedSource(spark, predictionsTablePath, earlier.getAsLong(), runKey, source)
                : source;
        DeltaTables.requireExists(spark, read.tablePath());
        ScoringWindow.Selection selection = window.select(spark, read);
        PipelineModel candidateModel = PipelineModel.load(candidate.modelPath());
        PipelineModel championModel = champion == null ? null : PipelineModel.load(champion.modelPath());
        double threshold = spec.evaluation().threshold();

        List<Dataset<Row>> cached = new ArrayList<>();
        try {
            Dataset<Row> prepared = cache(cached, FeatureJob.inferenceFeatures(spec, selection.rows()));
            long rows = prepared.count();
            if (rows == 0) {
                throw new TrellisException(ErrorCode.EMPTY_TABLE, "the scoring window of " + read + " ("
                        + describe(window, selection) + ") has no rows, so there is nothing to compare; load data first");
            }
            List<String> kept = new ArrayList<>(Arrays.asList(prepared.columns()));

            long t0 = System.nanoTime();
            Dataset<Row> scored = cache(cached, withScore(candidateModel.transform(prepared), kept, CANDIDATE_SCORE));
            double candidateMean = scored.agg(avg(col(CANDIDATE_SCORE))).head().getDouble(0);
            long candidateMillis = (System.nanoTime() - t0) / 1_000_000;

            Integer championVersion = null;
            Double agreementRate = null;
            Double psi = null;
            Double meanAbsDiff = null;
            Double championMean = null;
            Long championMillis = null;
            PredictionsTable.Run run = new PredictionsTable.Run(runKey, scoredAt, read);
            Dataset<Row> predictions;
            if (champion == null) {
                predictions = PredictionsTable.rows(spec, scored, col(CANDIDATE_SCORE), candidate, run);
            } else {
                kept.add(CANDIDATE_SCORE);
                long t1 = System.nanoTime();
                Dataset<Row> transformed;
                try {
                    transformed = championModel.transform(scored);
                } catch (RuntimeException e) {
                    throw new TrellisException(ErrorCode.SCHEMA_MISMATCH, "the champion model v" + champion.version()
                            + " at " + champion.modelPath() + " cannot score the features of spec " + spec.name() + ": "
                            + firstLine(e.getMessage()) + "; shadow-compare models trained on the same features", e);
                }
                scored = cache(cached, withScore(transformed, kept, CHAMPION_SCORE));
                championMean = scored.agg(avg(col(CHAMPION_SCORE))).head().getDouble(0);
                championMillis = (System.nanoTime() - t1) / 1_000_000;

                Comparison c = compare(scored, threshold);
                championVersion = champion.version();
                agreementRate = c.agreementRate();
                psi = PopulationStabilityIndex.ofCounts(c.championBins(), c.candidateBins());
                meanAbsDiff = c.meanAbsScoreDiff();
                predictions = PredictionsTable.rows(spec, scored, col(CANDIDATE_SCORE), candidate, run)
                        .unionByName(PredictionsTable.rows(spec, scored, col(CHAMPION_SCORE), champion, run));
            }
            boolean committed = earlier.isEmpty();
            long version = committed
                    ? PredictionsTable.append(spark, predictionsTablePath, predictions, runKey)
                    : earlier.getAsLong();
            return new ShadowReport(predictionsTablePath, version, rows, candidate.version(), championVersion,
                    agreementRate, psi, meanAbsDiff, candidateMean, championMean, candidateMillis, championMillis, committed);
        } finally {
            cached.forEach(Dataset::unpersist);
        }
    }

    record Comparison(double agreementRate, double meanAbsScoreDiff, long[] candidateBins, long[] championBins) {}

    /** One aggregate over rows holding both scores: agreement at the threshold, mean |difference|, both histograms. */
    static Comparison compare(Dataset<Row> both, double threshold) {
        Column cand = col(CANDIDATE_SCORE);
        Column champ = col(CHAMPION_SCORE);
        int bins = PopulationStabilityIndex.BINS;
        List<Column> aggs = new ArrayList<>();
        aggs.add(avg(when(PredictionsTable.predictionAt(cand, threshold).equalTo(PredictionsTable.predictionAt(champ, threshold)), 1.0)
                .otherwise(0.0)));
        aggs.add(avg(abs(cand.minus(champ))));
        for (Column score : List.of(cand, champ)) {
            Column bin = least(lit(bins - 1), greatest(lit(0), floor(score.multiply(bins)).cast("int")));
            for (int i = 0; i < bins; i++) {
                aggs.add(sum(when(bin.equalTo(i), 1L).otherwise(0L)));
            }
        }
        Row r = both.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new)).head();
        long[] candidateBins = new long[bins];
        long[] championBins = new long[bins];
        for (int i = 0; i < bins; i++) {
            candidateBins[i] = r.getLong(2 + i);
            championBins[i] = r.getLong(2 + bins + i);
        }
        return new Comparison(r.getDouble(0), r.getDouble(1), candidateBins, championBins);
    }

    /** The kept columns of a fitted pipeline's output plus its positive-class probability as {@code scoreColumn}. */
    private static Dataset<Row> withScore(Dataset<Row> transformed, List<String> kept, String scoreColumn) {
        List<Column> cols = new ArrayList<>();
        kept.forEach(c -> cols.add(col(c)));
        cols.add(PredictionsTable.positiveProbability().as(scoreColumn));
        return transformed.select(cols.toArray(Column[]::new));
    }

    private static Dataset<Row> cache(List<Dataset<Row>> cached, Dataset<Row> d) {
        Dataset<Row> persisted = d.persist(StorageLevel.MEMORY_AND_DISK());
        cached.add(persisted);
        return persisted;
    }

    private static String describe(ScoringWindow window, ScoringWindow.Selection selection) {
        return window.coversWholeTable() ? "the whole table"
                : window.timeColumn() + " from " + selection.from() + " to " + selection.to();
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    public static void main(String[] args) {
        JobMain.run("shadow-compare", args, Set.of("spec", "table", "lake", "source-version", "time-column", "window-days",
                "candidate", "candidate-version", "champion", "champion-version", "predictions", "run-key", "scored-at"), (spark, a) -> {
            ModelSpec spec = JobMain.loadSpec(spark, a.require("spec"));
            ScoringModel champion = a.has("champion")
                    ? new ScoringModel(BatchScoringJob.versionArgument(a, "champion-version"), a.require("champion"))
                    : null;
            DatasetVersion source = BatchScoringJob.sourceArgument(spark, a, spec);
            ShadowReport report = run(spark, spec,
                    source,
                    BatchScoringJob.windowArgument(a),
                    new ScoringModel(BatchScoringJob.versionArgument(a, "candidate-version"), a.require("candidate")),
                    champion,
                    a.require("predictions"),
                    a.require("run-key"),
                    BatchScoringJob.scoredAtArgument(a));
            Map<String, Object> result = new LinkedHashMap<>(REPORT_FIELDS.convertValue(report,
                    new TypeReference<Map<String, Object>>() {}));
            result.put("sourceVersion", source.version());
            return result;
        });
    }
}
