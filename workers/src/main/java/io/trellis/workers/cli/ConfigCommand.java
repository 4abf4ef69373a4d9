package io.trellis.workers.cli;

import io.trellis.workers.TrellisConfig;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Show every setting, its environment variable, default and effective value.")
final class ConfigCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Override
    public Integer call() {
        TrellisConfig c = root.config();
        System.out.println("Effective: " + c);
        for (Map.Entry<String, String[]> e : TrellisConfig.SETTINGS.entrySet()) {
            System.out.printf("  %-28s %-30s default %-36s %s%n", e.getKey(), TrellisConfig.envName(e.getKey()), e.getValue()[0], e.getValue()[1]);
        }
        return TrellisCli.EXIT_OK;
    }
}
