package io.trellis.workers.cli;

import io.trellis.metadata.RetentionStore.LegalHold;
import io.trellis.workers.TrellisRuntime;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "holds", mixinStandardHelpOptions = true,
        description = "Legal holds on dataset versions: a held version (and every model version trained on it) is never purged by retention.",
        subcommands = {HoldsCommand.Set.class, HoldsCommand.Lift.class, HoldsCommand.ListHolds.class})
final class HoldsCommand {
    @ParentCommand
    TrellisCli root;

    static void print(LegalHold h, PrintStream out) {
        out.println("hold " + h.id() + "  " + h.tablePath() + "@" + h.deltaVersion() + " (" + h.kind() + ")  set by " + h.setBy() + " at "
                + h.setAt() + ": " + h.reason()
                + (h.isOpen() ? "  [IN FORCE]" : "  [lifted by " + h.liftedBy() + " at " + h.liftedAt() + ": " + h.liftReason() + "]"));
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Place a legal hold on a recorded dataset version (auditor or admin).")
    static final class Set implements Callable<Integer> {
        @ParentCommand
        HoldsCommand parent;

        @Parameters(index = "0", paramLabel = "TABLE", description = "The Delta table: a lake-relative name (features/churn) or its full path.")
        String table;

        @Parameters(index = "1", paramLabel = "VERSION", description = "The Delta version.")
        long version;

        @Option(names = "--reason", required = true, description = "Why (the matter or case), recorded with the hold and in the audit trail.")
        String reason;

        @Option(names = "--as", description = "Who places it (must hold the auditor or admin role).")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.metadata().retention().setHold(runtime.lake().resolve(table), version, reason, actor), System.out);
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "lift", mixinStandardHelpOptions = true, description = "Lift a legal hold (auditor or admin); its record stays.")
    static final class Lift implements Callable<Integer> {
        @ParentCommand
        HoldsCommand parent;

        @Parameters(index = "0", paramLabel = "HOLD", description = "The hold's id (trellis holds list).")
        long holdId;

        @Option(names = "--reason", required = true, description = "Why it is lifted (recorded).")
        String reason;

        @Option(names = "--as", description = "Who lifts it (must hold the auditor or admin role).")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.metadata().retention().liftHold(holdId, reason, actor), System.out);
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Holds in force (--all: lifted ones too), newest first.")
    static final class ListHolds implements Callable<Integer> {
        @ParentCommand
        HoldsCommand parent;

        @Option(names = "--all", description = "Include lifted holds.")
        boolean all;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                List<LegalHold> holds = all ? runtime.metadata().retention().holds() : runtime.metadata().retention().openHolds();
                if (holds.isEmpty()) {
                    System.out.println("(no holds)");
                }
                holds.forEach(h -> print(h, System.out));
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
