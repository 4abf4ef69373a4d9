package io.trellis.workers;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.sample.SampleDataReport;
import io.trellis.workflows.retrain.RetrainRequest;
import java.io.PrintStream;

/** The main job's steps: sample data if missing, register the model's spec, one retrain, the summary. */
public final class LocalRetrain {
    private final TrellisRuntime runtime;
    private final PrintStream out;

    public LocalRetrain(TrellisRuntime runtime, PrintStream out) {
        this.runtime = runtime;
        this.out = out;
    }

    /** {@code sample} null: the model's own source table must already exist. */
    public RetrainRunner.Outcome run(ModelSpec spec, String specYaml, SampleDataOptions sample, String actor) {
        if (sample != null) {
            generateSampleData(sample, actor);
        }
        runtime.registry().applyModelSpec(spec.name(), specYaml, ModelSpecLoader.sha256(specYaml), spec.environments(), actor);
        out.println("Model " + spec.name() + " registered (spec sha256 " + ModelSpecLoader.sha256(specYaml).substring(0, 12) + ")");
        return new RetrainRunner(runtime, out).run(new RetrainRequest(spec.name(), actor, "trellis local"));
    }

    public SampleDataReport generateSampleData(SampleDataOptions sample, String actor) {
        out.printf("Sample data: %,d rows in %d daily batches (seed %d) -> %s%n", sample.rows(), sample.days(), sample.seed(), sample.tablePath());
        SampleDataReport report = SampleDataJob.run(runtime.spark(), sample);
        if (report.batchesWritten() > 0) {
            runtime.registry().recordIngestion(report.tablePath(), report.tableVersion(), report.rowsWritten(),
                    "sample-data:" + report.tablePath() + ":v" + report.tableVersion(), actor);
            out.printf("  wrote %d batches (%,d rows); table now at Delta version %d%n", report.batchesWritten(), report.rowsWritten(), report.tableVersion());
        } else {
            out.printf("  already present (Delta version %d); nothing written%n", report.tableVersion());
        }
        return report;
    }
}
