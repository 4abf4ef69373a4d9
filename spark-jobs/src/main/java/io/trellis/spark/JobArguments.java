package io.trellis.spark;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code --name value} arguments of a job's main, checked against the names the job knows. */
public final class JobArguments {
    private final String job;
    private final Map<String, String> values;

    private JobArguments(String job, Map<String, String> values) {
        this.job = job;
        this.values = values;
    }

    public static JobArguments parse(String job, String[] args, Set<String> known) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw invalid(job, "unexpected argument '" + a + "'; arguments are --name value pairs", known);
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw invalid(job, "argument --" + name + " has no value", known);
            }
            if (!known.contains(name)) {
                throw invalid(job, "unknown argument --" + name, known);
            }
            values.put(name, value);
        }
        return new JobArguments(job, values);
    }

    private static TrellisException invalid(String job, String problem, Set<String> known) {
        return new TrellisException(ErrorCode.INVALID_REQUEST,
                job + ": " + problem + ". Known arguments: --" + String.join(", --", new TreeSet<>(known)));
    }

    public String require(String name) {
        String v = values.get(name);
        if (v == null || v.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    job + ": missing required argument --" + name + "; pass it as --" + name + " <value>");
        }
        return v;
    }

    public String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public long getLong(String name, long dflt) {
        return values.containsKey(name) ? parseLong(name, values.get(name)) : dflt;
    }

    public long requireLong(String name) {
        return parseLong(name, require(name));
    }

    public double getDouble(String name, double dflt) {
        if (!values.containsKey(name)) {
            return dflt;
        }
        try {
            return Double.parseDouble(values.get(name));
        } catch (NumberFormatException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    job + ": --" + name + " must be a number, got '" + values.get(name) + "'");
        }
    }

    private long parseLong(String name, String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    job + ": --" + name + " must be a whole number, got '" + v + "'");
        }
    }
}
