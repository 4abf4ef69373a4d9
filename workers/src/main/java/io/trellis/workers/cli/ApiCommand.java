package io.trellis.workers.cli;

import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.api.ApiService;
import io.trellis.workers.schedules.DurableSchedules;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "api", mixinStandardHelpOptions = true,
        description = {"Serve the JSON HTTP API (OpenAPI document at /openapi.json) until stopped.",
                "Every endpoint but /healthz and /readyz needs a bearer token: see `trellis tokens create`.",
                "With the embedded Temporal server the workers run in this process too."})
final class ApiCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--bind", description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all interfaces).")
    String bind = "127.0.0.1";

    @Option(names = "--port", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port = 8080;

    @Option(names = "--threads", description = "Request handler threads (default: ${DEFAULT-VALUE}).")
    int threads = 32;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535 || threads < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--port must be 0..65535 and --threads at least 1");
        }
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            if (runtime.embeddedTemporal()) {
                runtime.startWorkers();
                // The embedded server forgot the schedules with its last process; PostgreSQL kept their definitions.
                List<String> restored = ((DurableSchedules) runtime.schedules()).restore("trellis");
                if (!restored.isEmpty()) {
                    System.out.println("Restored " + restored.size() + " schedule(s): " + String.join(", ", restored));
                }
            }
            try (ApiService api = ApiService.start(runtime, new InetSocketAddress(bind, port), threads)) {
                System.out.println("Trellis API listening on " + api.server().baseUri() + " (OpenAPI: " + api.server().baseUri()
                        + "/openapi.json); Ctrl-C or SIGTERM stops it.");
                runtime.awaitShutdown();
            }
            return TrellisCli.EXIT_OK;
        }
    }
}
