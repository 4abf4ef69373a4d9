package io.trellis.workers.cli;

import io.trellis.metadata.PromotionRecord;
import io.trellis.workers.TrellisRuntime;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "promotions", mixinStandardHelpOptions = true,
        description = "A model's promotions: where each stands, its stages' verdicts and the decision.")
final class PromotionsCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(paramLabel = "MODEL")
    String model;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            for (PromotionRecord p : runtime.registry().promotions(model)) {
                System.out.printf(Locale.ROOT, "%s  v%d → %s  %s  requested by %s%s%n", p.promotionKey(), p.version(),
                        p.targetEnvironment(), p.status(), p.requestedBy(),
                        p.decision() == null ? "" : "; " + p.decision().name().toLowerCase(Locale.ROOT) + " by " + p.decidedBy()
                                + (p.decisionReason() == null ? "" : " (" + p.decisionReason() + ")"));
                for (Map<String, Object> stage : p.stages()) {
                    System.out.printf(Locale.ROOT, "    %-11s %s%n", stage.get("environment"),
                            Boolean.TRUE.equals(stage.get("passed")) ? "gates passed" : "gates failed");
                }
                if (p.message() != null) {
                    System.out.println("    " + p.message());
                }
            }
            return TrellisCli.EXIT_OK;
        }
    }
}
