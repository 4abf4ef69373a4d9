package io.trellis.workers.cli;

import io.trellis.workflows.promotion.Verdict;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a promotion waiting for approval.")
final class ApproveCommand extends DecideCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--reason", description = "Optional note (recorded in the audit trail).")
    String reason;

    @Override
    public Integer call() {
        return decide(root, Verdict.APPROVE, reason);
    }
}
