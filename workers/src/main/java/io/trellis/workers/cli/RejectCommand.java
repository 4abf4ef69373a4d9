package io.trellis.workers.cli;

import io.trellis.workflows.promotion.Verdict;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a promotion waiting for approval.")
final class RejectCommand extends DecideCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--reason", required = true, description = "Why (required; recorded in the audit trail).")
    String reason;

    @Override
    public Integer call() {
        return decide(root, Verdict.REJECT, reason);
    }
}
