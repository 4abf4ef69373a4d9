package io.trellis.workers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The code version recorded in lineage: the git commit the worker runs from, else the build version. */
final class CodeVersion {
    private CodeVersion() {}

    static String detect() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 && out.matches("[0-9a-f]{7,40}")) {
                String dirty = dirty() ? "-dirty" : "";
                return "git:" + out + dirty;
            }
        } catch (IOException e) {
            // no git here: fall through to the build version
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String v = CodeVersion.class.getPackage().getImplementationVersion();
        return "build:" + (v == null ? "dev" : v);
    }

    private static boolean dirty() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty();
    }
}
