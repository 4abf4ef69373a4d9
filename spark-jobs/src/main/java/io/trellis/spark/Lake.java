package io.trellis.spark;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The lake root under which model specs name their tables ({@code raw/customer_churn}). Names that
 * already are URIs ({@code s3a://bucket/t}, {@code file:/tmp/t}) or absolute paths pass through.
 */
public record Lake(String root) {
    private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");

    public Lake {
        Objects.requireNonNull(root, "root");
        if (root.isBlank()) {
            throw new IllegalArgumentException("lake root must not be blank");
        }
    }

    /** The full path of a table. */
    public String resolve(String table) {
        if (isAbsolute(table)) {
            return table;
        }
        String base = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
        String name = table;
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        return base + "/" + name;
    }

    public static boolean isAbsolute(String table) {
        return table.startsWith("/") || URI_SCHEME.matcher(table).matches();
    }
}
