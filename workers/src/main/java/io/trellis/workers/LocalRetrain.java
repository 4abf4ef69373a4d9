package io.trellis.workers;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.sample.SampleDataReport;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainRequest;
import java.time.Duration;
import java.util.Set;
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

    /**
     * Carries a freshly trained version to the last environment: staging gates and shadow run, production gates,
     * then the approval, given by the configured second identity — embedded mode only, where nobody else can
     * reach the in-process Temporal server to approve.
     */
    public PromotionRunner.Outcome promoteToProduction(ModelSpec spec, int version, String actor) {
        if (!runtime.embeddedTemporal()) {
            throw new IllegalStateException("automatic approval exists only in the embedded mode");
        }
        String target = spec.environments().get(spec.environments().size() - 1);
        PromotionRunner promotions = new PromotionRunner(runtime, out);
        out.println();
        PromotionWorkflow wf = promotions.start(new PromotionRequest(spec.name(), version, target, actor, "trellis local"));
        PromotionRunner.Outcome outcome = promotions.follow(wf, Duration.ofHours(2));
        if (outcome.status() == PromotionStatus.AWAITING_APPROVAL) {
            String approver = runtime.config().embeddedApprover();
            runtime.registry().grantRoles(approver, Set.of(PrincipalRole.APPROVER), Registry.SYSTEM_ACTOR);
            out.println("  embedded mode: " + approver + " (approver role) approves " + outcome.promotionKey());
            promotions.decide(outcome.promotionKey(), new ApprovalDecision(approver, Verdict.APPROVE,
                    "automatic approval by the embedded stack's second identity"));
            outcome = promotions.follow(wf, Duration.ofHours(2));
        }
        PromotionRunner.printEnvironments(runtime.registry(), spec.name(), out);
        return outcome;
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
