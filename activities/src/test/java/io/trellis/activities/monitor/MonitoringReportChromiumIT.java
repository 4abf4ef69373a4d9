package io.trellis.activities.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens a rendered monitoring report in real headless Chromium (Debian's {@code chromium}; `.ci/run` installs it):
 * the page's own script must find painted pixels on every chart canvas, and the screenshot must show both datasets'
 * bar colours in quantity.
 */
class MonitoringReportChromiumIT {
    private static final Pattern DRAWN = Pattern.compile("data-charts-drawn=\"(\\d+)\"");
    private static final Pattern TOTAL = Pattern.compile("data-charts-total=\"(\\d+)\"");
    private static String chromium;

    @TempDir
    Path dir;

    @BeforeAll
    static void findChromium() {
        String configured = System.getenv("TRELLIS_CHROMIUM");
        for (String candidate : new String[] {configured, "/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
            if (candidate != null && new File(candidate).canExecute()) {
                chromium = candidate;
                return;
            }
        }
        throw new AssertionError("headless Chromium is needed to check the monitoring report: install Debian's package"
                + " (apt-get install -y chromium; .ci/run does) or point TRELLIS_CHROMIUM at the binary");
    }

    private String chromium(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run", "--user-data-dir=" + dir.resolve("profile")));
        command.addAll(List.of(args));
        Path out = dir.resolve("chromium-" + System.nanoTime() + ".out");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish within 120 s: " + command);
        }
        assertThat(p.exitValue()).as("chromium exit code for %s", command).isZero();
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    @Test
    void everyChartDrawsInARealBrowser() throws Exception {
        Path page = dir.resolve("report.html");
        Files.writeString(page, new MonitoringReport().render(TestingMonitorRecords.drifted(), Instant.now()), StandardCharsets.UTF_8);

        String dom = chromium("--virtual-time-budget=10000", "--dump-dom", page.toUri().toString());
        Matcher total = TOTAL.matcher(dom);
        Matcher drawn = DRAWN.matcher(dom);
        assertThat(total.find()).as("the report's script ran and set data-charts-total").isTrue();
        assertThat(drawn.find()).isTrue();
        // The score chart and one per feature with bins (plan_tier has bins too: its chart shows the reference only).
        assertThat(Integer.parseInt(total.group(1))).isEqualTo(5);
        assertThat(drawn.group(1)).isEqualTo(total.group(1));
        assertThat(dom).contains("RETRAIN_STARTED").contains("<td>monthly_charges</td>");

        Path png = dir.resolve("report.png");
        chromium("--virtual-time-budget=10000", "--window-size=1280,2200", "--screenshot=" + png, page.toUri().toString());
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).as("screenshot %s", png).isNotNull();
        long reference = 0;
        long current = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xFFFFFF;
                if (close(rgb, 54, 162, 235)) {
                    reference++;
                } else if (close(rgb, 255, 99, 32)) {
                    current++;
                }
            }
        }
        // Bars of both datasets cover thousands of pixels; a blank or failed chart would leave (almost) none.
        assertThat(reference).as("pixels in the reference colour").isGreaterThan(5_000);
        assertThat(current).as("pixels in the current colour").isGreaterThan(5_000);
        Path kept = Path.of("target", "monitoring-report-screenshot.png");
        Files.createDirectories(kept.getParent());
        Files.copy(png, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static boolean close(int rgb, int r, int g, int b) {
        return Math.abs(((rgb >> 16) & 0xFF) - r) < 12 && Math.abs(((rgb >> 8) & 0xFF) - g) < 12 && Math.abs((rgb & 0xFF) - b) < 12;
    }
}
