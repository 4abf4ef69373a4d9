package io.trellis.workers.cli;

import io.trellis.metadata.LineageChain;
import io.trellis.metadata.LineageInput;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "lineage", mixinStandardHelpOptions = true, description = "Show what made a model version.")
final class LineageCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "VERSION")
    int version;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            LineageChain chain = runtime.registry().lineage(model, version);
            for (LineageInput in : chain.inputs()) {
                System.out.println(in.relation() + ": " + in.dataset().tablePath() + " @ Delta v" + in.dataset().deltaVersion()
                        + " (" + in.dataset().rowCount() + " rows)");
            }
            System.out.println("run: " + chain.run().runKey() + " by " + chain.run().triggeredBy() + ", code " + chain.run().codeVersion()
                    + ", spec sha256 " + chain.run().specSha256());
            System.out.println("version: " + model + " v" + chain.version().version() + " " + chain.version().status() + " "
                    + chain.version().algorithm() + " " + chain.version().params());
            System.out.println("metrics: " + chain.version().metrics());
            System.out.println("artifact: " + chain.version().artifactUri() + " sha256 " + chain.version().artifactSha256());
            chain.deployments().forEach(d -> System.out.println("deployment: " + d.environment() + " " + d.role() + " from "
                    + d.validFrom() + (d.validTo() == null ? "" : " to " + d.validTo())));
            return TrellisCli.EXIT_OK;
        }
    }
}
