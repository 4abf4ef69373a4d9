package io.trellis.workers.cli;

import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.WorkerHealthServer;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Run the Temporal workers until stopped: the orchestration and Spark task queues, or one of them",
                "(TRELLIS_WORKER_QUEUES=orchestration or spark, for separate deployments per queue).",
                "Against a configured Temporal cluster (TRELLIS_TEMPORAL_ADDRESS); with the embedded server it also",
                "serves the embedded stack in this process.",
                "--health-port serves GET /healthz (workers running) and /readyz (also PostgreSQL, Temporal and, polling the Spark",
                "queue, the Spark session) for probes."})
final class WorkerCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--health-port", description = "Serve /healthz and /readyz on this port (default: none; 0 picks a free one).")
    Integer healthPort;

    @Option(names = "--health-bind", description = "Address for the health endpoints (default: ${DEFAULT-VALUE}; 0.0.0.0 in a pod).")
    String healthBind = "127.0.0.1";

    @Override
    public Integer call() throws Exception {
        if (healthPort != null && (healthPort < 0 || healthPort > 65535)) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--health-port must be 0..65535");
        }
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config());
             WorkerHealthServer health = healthPort == null ? null
                     : WorkerHealthServer.start(runtime, new InetSocketAddress(healthBind, healthPort))) {
            runtime.startWorkers();
            System.out.println("Trellis worker running on " + String.join(", ", runtime.pollingQueues()) + (health == null ? "" : "; health on " + healthBind + ":" + health.port())
                    + "; Ctrl-C or SIGTERM stops it gracefully.");
            runtime.awaitShutdown();
            return TrellisCli.EXIT_OK;
        }
    }
}
