package io.trellis.workers.api;

import io.trellis.metadata.AuditEntry;
import java.util.List;
import java.util.Map;

/** The audit trail as RFC 4180 CSV, one row per entry, details as a JSON column; for compliance exports. */
final class AuditCsv {
    static final String HEADER = "id,occurred_at,actor,action,outcome,model,model_version,run_key,message,details";

    private AuditCsv() {}

    static String write(List<AuditEntry> entries) {
        StringBuilder out = new StringBuilder(HEADER).append("\r\n");
        for (AuditEntry e : entries) {
            out.append(e.id()).append(',')
                    .append(e.occurredAt()).append(',')
                    .append(field(e.actor())).append(',')
                    .append(field(e.action())).append(',')
                    .append(e.outcome()).append(',')
                    .append(field(e.modelName())).append(',')
                    .append(e.modelVersion() == null ? "" : e.modelVersion()).append(',')
                    .append(field(e.runKey())).append(',')
                    .append(field(e.message())).append(',')
                    .append(field(details(e.details())))
                    .append("\r\n");
        }
        return out.toString();
    }

    private static String details(Map<String, Object> details) {
        return details == null ? null : new String(Json.write(details), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * Quoted when needed; a leading =, +, - or @ is prefixed with a quote so that spreadsheets do not run it as a
     * formula (CSV injection: actors and reasons are user input).
     */
    static String field(String value) {
        if (value == null) {
            return "";
        }
        String v = value;
        if (!v.isEmpty() && "=+-@".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
            return "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }
}
