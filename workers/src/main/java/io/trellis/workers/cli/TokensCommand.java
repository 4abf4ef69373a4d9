package io.trellis.workers.cli;

import io.trellis.metadata.ApiTokenRecord;
import io.trellis.metadata.IssuedToken;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisRuntime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = {"API bearer tokens (admin): each acts as a principal and has that principal's roles.",
                "Grant the roles first: trellis principals grant NAME viewer|ml-engineer|approver|auditor|admin ..."},
        subcommands = {TokensCommand.Create.class, TokensCommand.Revoke.class, TokensCommand.ListTokens.class})
final class TokensCommand {
    private static final Pattern DURATION = Pattern.compile("(\\d+)([dhm])");

    @ParentCommand
    TrellisCli root;

    static Duration parseTtl(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "--expires-in must be a positive number of days, hours or minutes"
                    + " such as 90d, 12h or 30m; was '" + text + "'.");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "d" -> Duration.ofDays(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofMinutes(n);
        };
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token acting as PRINCIPAL; prints the secret once (it is stored only as a SHA-256).")
    static final class Create implements Callable<Integer> {
        @ParentCommand
        TokensCommand parent;

        @Parameters(index = "0", paramLabel = "PRINCIPAL")
        String principal;

        @Option(names = "--expires-in", description = "Lifetime such as 90d, 12h, 30m (default: until revoked).")
        String expiresIn;

        @Option(names = "--description", description = "What the token is for (shown in `tokens list`).")
        String description;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            Duration ttl = expiresIn == null ? null : parseTtl(expiresIn);
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                IssuedToken issued = runtime.apiAccess().createToken(principal, description, ttl, actor);
                System.err.println("Created " + issued.token().tokenId() + " for " + principal
                        + (issued.token().expiresAt() == null ? " (valid until revoked)" : " (expires " + issued.token().expiresAt() + ")")
                        + ". The secret below is shown only now:");
                System.out.println(issued.secret());
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token by its id (tok_…); it stops working at once.")
    static final class Revoke implements Callable<Integer> {
        @ParentCommand
        TokensCommand parent;

        @Parameters(index = "0", paramLabel = "TOKEN_ID")
        String tokenId;

        @Option(names = "--as", description = "Identity recorded in the audit trail.")
        String actor = TrellisCli.defaultActor();

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                ApiTokenRecord t = runtime.apiAccess().revokeToken(tokenId, actor);
                System.out.println("Revoked " + t.tokenId() + " of " + t.principal() + " at " + t.revokedAt() + " (by " + t.revokedBy() + ")");
                return TrellisCli.EXIT_OK;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (never their secrets), newest first.")
    static final class ListTokens implements Callable<Integer> {
        @ParentCommand
        TokensCommand parent;

        @Option(names = "--principal", description = "Only this principal's tokens.")
        String principal;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(parent.root.config())) {
                List<ApiTokenRecord> tokens = runtime.apiAccess().tokens(principal);
                Instant now = Instant.now();
                System.out.printf(Locale.ROOT, "%-17s %-20s %-8s %-27s %-27s %s%n", "TOKEN", "PRINCIPAL", "STATE", "EXPIRES", "LAST USED", "DESCRIPTION");
                for (ApiTokenRecord t : tokens) {
                    String state = t.revokedAt() != null ? "revoked" : t.activeAt(now) ? "active" : "expired";
                    System.out.printf(Locale.ROOT, "%-17s %-20s %-8s %-27s %-27s %s%n", t.tokenId(), t.principal(), state,
                            t.expiresAt() == null ? "never" : t.expiresAt(), t.lastUsedAt() == null ? "never" : t.lastUsedAt(),
                            t.description() == null ? "" : t.description());
                }
                return TrellisCli.EXIT_OK;
            }
        }
    }
}
