package io.trellis.spark.testing;

import io.trellis.spark.SparkSessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * One local[2] Spark session with Delta for the whole test JVM (a session costs seconds to start), and
 * fresh temporary lake directories removed when the JVM exits. Published in the spark-jobs test-jar for
 * other modules' tests.
 */
public final class TestingSpark {
    private static final List<Path> CREATED = new CopyOnWriteArrayList<>();
    private static volatile SparkSession session;

    private TestingSpark() {}

    public static SparkSession session() {
        SparkSession s = session;
        if (s == null) {
            synchronized (TestingSpark.class) {
                s = session;
                if (s == null) {
                    Path warehouse = newLake("trellis-warehouse");
                    s = SparkSessions.localBuilder("trellis-tests", "local[2]")
                            .config("spark.sql.warehouse.dir", warehouse.toUri().toString())
                            .config("spark.driver.memory", "2g")
                            .getOrCreate();
                    s.sparkContext().setLogLevel("WARN");
                    session = s;
                    Runtime.getRuntime().addShutdownHook(new Thread(TestingSpark::cleanUp, "trellis-testing-spark-cleanup"));
                }
            }
        }
        return s;
    }

    /** A new empty directory to use as a lake root (or a table path); deleted at JVM exit. */
    public static Path newLake() {
        return newLake("trellis-lake");
    }

    public static Path newLake(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            CREATED.add(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void cleanUp() {
        for (Path dir : CREATED) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException ignored) {
                // best effort: the OS cleans temp directories eventually
            }
        }
    }
}
