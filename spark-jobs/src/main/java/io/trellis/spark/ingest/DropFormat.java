package io.trellis.spark.ingest;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The file formats a drop may come in. CSV files carry a header row; JSON is one object per line. */
public enum DropFormat {
    PARQUET(".parquet"),
    CSV(".csv"),
    JSON(".json", ".jsonl", ".ndjson");

    private final String[] extensions;

    DropFormat(String... extensions) {
        this.extensions = extensions;
    }

    /** Text formats are parsed, so their column types are inferred rather than stored. */
    boolean isText() {
        return this != PARQUET;
    }

    public static DropFormat fromName(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    "unknown drop format '" + name + "'; use parquet, csv or json");
        }
    }

    /** The one format all the files' extensions agree on. */
    static DropFormat detect(String dropPath, Collection<String> fileNames) {
        Set<DropFormat> seen = EnumSet.noneOf(DropFormat.class);
        for (String name : fileNames) {
            DropFormat f = ofFile(name);
            if (f == null) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST,
                        "cannot tell the format of '" + name + "' in drop " + dropPath
                                + " from its extension; name files *.parquet, *.csv or *.json, or pass the format explicitly");
            }
            seen.add(f);
        }
        if (seen.size() != 1) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    "drop " + dropPath + " mixes formats " + seen + "; a drop must hold files of one format");
        }
        return seen.iterator().next();
    }

    private static DropFormat ofFile(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (DropFormat f : values()) {
            for (String ext : f.extensions) {
                if (lower.endsWith(ext) || lower.contains(ext + ".")) {
                    return f;
                }
            }
        }
        return null;
    }
}
