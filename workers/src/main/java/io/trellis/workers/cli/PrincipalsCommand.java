package io.trellis.workers.cli;

import io.trellis.metadata.PrincipalRecord;
import io.trellis.metadata.PrincipalRole;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisRuntime;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "principals", mixinStandardHelpOptions = true, description = "Identities and their roles (approver, ml-engineer, ...).",
        subcommands = {PrincipalsCommand.Grant.class, PrincipalsCommand.Revoke.class})
final class PrincipalsCommand {
    @ParentCommand
    TrellisCli root;

    static PrincipalRole role(String name) {
        return Arrays.stream(PrincipalRole.values()).filter(r -> r.dbValue().equals(name.toLowerCase(Locale.ROOT)))
                .findFirst().orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST, "unknown role '" + name + "'; known: "
                        + Arrays.stream(PrincipalRole.values()).map(PrincipalRole::dbValue).collect(Collectors.joining(", "))));
    }

    static void print(PrincipalRecord p) {
        System.out.println(p);
    }

    @Command(name = "grant", mixinStandardHelpOptions = true, description = "Give roles to an identity (created if new).")
    static final class Grant implements Callable<Integer> {
        @ParentCommand
        PrincipalsCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1..*", arity = "1..*", paramLabel = "ROLE")
        List<String> roles;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            Set<PrincipalRole> set = new LinkedHashSet<>();
            roles.forEach(r -> set.add(role(r)));
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.registry().grantRoles(name, set, actor));
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Take a role from an identity.")
    static final class Revoke implements Callable<Integer> {
        @ParentCommand
        PrincipalsCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "ROLE")
        String role;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                print(runtime.registry().revokeRole(name, role(role), actor));
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
