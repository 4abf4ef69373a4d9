package io.trellis.spark;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * Session settings that one call needs and nothing else should see (retention's VACUUM and DELETE): set around the call,
 * each restored afterwards to what it was (unset again when it was not set), under one lock so two such calls cannot
 * interleave their settings on the shared session.
 */
public final class SessionConfs {
    private SessionConfs() {}

    public static synchronized <T> T around(SparkSession spark, Map<String, String> settings, Supplier<T> body) {
        Map<String, String> before = new HashMap<>();
        settings.keySet().forEach(key -> before.put(key, spark.conf().get(key, null)));
        settings.forEach((key, value) -> spark.conf().set(key, value));
        try {
            return body.get();
        } finally {
            before.forEach((key, value) -> {
                if (value == null) {
                    spark.conf().unset(key);
                } else {
                    spark.conf().set(key, value);
                }
            });
        }
    }
}
