package io.trellis.workflows.replay;

import io.trellis.workflows.monitor.MonitorHistories;
import io.trellis.workflows.promotion.PromotionHistories;
import io.trellis.workflows.retrain.RetrainHistories;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the histories {@link WorkflowReplayTest} replays. Run it only when a workflow change is meant to be
 * incompatible with running workflows (and then version the change instead, see the README):
 * {@code mvn -pl workflows test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java
 * -Dexec.classpathScope=test -Dexec.mainClass=io.trellis.workflows.replay.RecordWorkflowHistories}. With the arguments
 * {@code DIR retrain-overrides} it writes only that history (added with the retrain-overrides change).
 */
public final class RecordWorkflowHistories {
    private RecordWorkflowHistories() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "src/test/resources/histories");
        Files.createDirectories(dir);
        if (args.length > 1 && args[1].equals("retrain-overrides")) {
            // adds one history without rewriting the earlier ones (which must stay as recorded)
            RetrainHistories.recordWithOverrides(dir);
            System.out.println("retrain-overrides written to " + dir.toAbsolutePath());
            System.exit(0);
        }
        RetrainHistories.record(dir);
        PromotionHistories.record(dir);
        MonitorHistories.record(dir);
        System.out.println("histories written to " + dir.toAbsolutePath());
        System.exit(0);
    }
}
