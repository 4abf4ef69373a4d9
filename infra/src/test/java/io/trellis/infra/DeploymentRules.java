package io.trellis.infra;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What every deployment asset must satisfy, as a list of problems (empty when all is well), so that the
 * tests can show both that the shipped files pass and that a bad file is caught.
 */
final class DeploymentRules {
    /** Environment variables whose values are secrets by their name. */
    static final Pattern SECRET_NAME = Pattern.compile(".*(PASSWORD|PASSWD|SECRET|KEY|TOKEN|CREDENTIAL).*");
    /** Compose may only take secret values from the environment / .env: ${VAR}, ${VAR:?message}, ${VAR:-}. */
    static final Pattern SUBSTITUTION = Pattern.compile("\\$\\{[A-Z0-9_]+(:?[?-][^}]*)?}");
    static final String NO_PROBES = "trellis.io/probes";
    private static final Set<String> NAMESPACED = Set.of("Deployment", "Service", "ConfigMap", "ServiceAccount", "Role",
            "RoleBinding", "PersistentVolumeClaim", "Secret", "StatefulSet", "Job", "CronJob");

    private DeploymentRules() {}

    /** An image reference with an exact tag (or digest), never {@code latest} or no tag at all. */
    static boolean pinned(String image) {
        if (image == null || image.isBlank()) {
            return false;
        }
        if (image.contains("@sha256:")) {
            return true;
        }
        String last = image.substring(image.lastIndexOf('/') + 1);
        int colon = last.indexOf(':');
        if (colon < 0) {
            return false;
        }
        String tag = last.substring(colon + 1);
        return !tag.isBlank() && !tag.equalsIgnoreCase("latest") && !tag.equalsIgnoreCase("stable") && !tag.contains("$");
    }

    @SuppressWarnings("unchecked")
    static List<String> kubernetes(String file, Map<String, Object> doc) {
        List<String> problems = new ArrayList<>();
        String kind = str(doc.get("kind"));
        Map<String, Object> meta = map(doc.get("metadata"));
        String where = file + " " + kind + "/" + (meta == null ? "?" : meta.get("name"));
        if (doc.get("apiVersion") == null || kind == null || meta == null) {
            problems.add(file + ": a document without apiVersion, kind or metadata");
            return problems;
        }
        if (!"Pod".equals(kind) && meta.get("name") == null) {
            problems.add(where + ": metadata.name is missing");
        }
        if (NAMESPACED.contains(kind) && meta.get("namespace") == null) {
            problems.add(where + ": metadata.namespace is missing");
        }
        if ("Secret".equals(kind) && (doc.get("data") != null || doc.get("stringData") != null)) {
            problems.add(where + ": a Secret with values is checked in; create it with kubectl instead");
        }
        if ("ConfigMap".equals(kind)) {
            Map<String, Object> data = map(doc.get("data"));
            if (data != null) {
                for (String k : data.keySet()) {
                    if (SECRET_NAME.matcher(k.toUpperCase()).matches()) {
                        problems.add(where + ": secret-like key " + k + " in a ConfigMap; use a Secret");
                    }
                }
            }
        }
        Map<String, Object> podSpec = null;
        Map<String, Object> podMeta = null;
        if ("Deployment".equals(kind) || "StatefulSet".equals(kind)) {
            Map<String, Object> spec = map(doc.get("spec"));
            Map<String, Object> template = spec == null ? null : map(spec.get("template"));
            podSpec = template == null ? null : map(template.get("spec"));
            podMeta = template == null ? null : map(template.get("metadata"));
            Map<String, Object> selector = spec == null ? null : map(spec.get("selector"));
            Map<String, Object> matchLabels = selector == null ? null : map(selector.get("matchLabels"));
            Map<String, Object> labels = podMeta == null ? null : map(podMeta.get("labels"));
            if (matchLabels == null || labels == null || !labels.entrySet().containsAll(matchLabels.entrySet())) {
                problems.add(where + ": spec.selector.matchLabels does not match the pod template's labels");
            }
        } else if ("Pod".equals(kind)) {
            podSpec = map(doc.get("spec"));
            podMeta = meta;
        }
        if (podSpec == null) {
            return problems;
        }
        Map<String, Object> annotations = podMeta == null ? null : map(podMeta.get("annotations"));
        boolean probesWaived = annotations != null && annotations.get(NO_PROBES) != null;
        List<Object> containers = (List<Object>) podSpec.getOrDefault("containers", List.of());
        if (containers.isEmpty()) {
            problems.add(where + ": no containers");
        }
        for (Object o : containers) {
            Map<String, Object> c = map(o);
            String cw = where + " container " + c.get("name");
            if (!pinned(str(c.get("image")))) {
                problems.add(cw + ": image '" + c.get("image") + "' is not pinned to an exact tag");
            }
            Map<String, Object> resources = map(c.get("resources"));
            for (String level : List.of("requests", "limits")) {
                Map<String, Object> r = resources == null ? null : map(resources.get(level));
                if (r == null || r.get("cpu") == null || r.get("memory") == null) {
                    problems.add(cw + ": resources." + level + " needs cpu and memory");
                }
            }
            boolean probed = c.get("livenessProbe") != null && c.get("readinessProbe") != null;
            if (!probed && !probesWaived) {
                problems.add(cw + ": no liveness and readiness probes (or a " + NO_PROBES + " annotation saying why)");
            }
            if (c.get("ports") != null && !probed) {
                problems.add(cw + ": serves ports but has no liveness and readiness probes");
            }
            for (Object e : (List<Object>) c.getOrDefault("env", List.of())) {
                Map<String, Object> env = map(e);
                String name = str(env.get("name"));
                if (name != null && SECRET_NAME.matcher(name).matches()) {
                    Map<String, Object> from = map(env.get("valueFrom"));
                    if (env.get("value") != null || from == null || from.get("secretKeyRef") == null) {
                        problems.add(cw + ": env " + name + " must come from a secretKeyRef, not an inline value");
                    }
                }
            }
        }
        return problems;
    }

    @SuppressWarnings("unchecked")
    static List<String> compose(String file, Map<String, Object> doc) {
        List<String> problems = new ArrayList<>();
        Map<String, Object> services = map(doc.get("services"));
        if (services == null || services.isEmpty()) {
            problems.add(file + ": no services");
            return problems;
        }
        for (Map.Entry<String, Object> s : services.entrySet()) {
            String where = file + " service " + s.getKey();
            Map<String, Object> svc = map(s.getValue());
            if (!pinned(str(svc.get("image")))) {
                problems.add(where + ": image '" + svc.get("image") + "' is not pinned to an exact tag");
            }
            Map<String, Object> deploy = map(svc.get("deploy"));
            Map<String, Object> resources = deploy == null ? null : map(deploy.get("resources"));
            Map<String, Object> limits = resources == null ? null : map(resources.get("limits"));
            if (limits == null || limits.get("cpus") == null || limits.get("memory") == null) {
                problems.add(where + ": deploy.resources.limits needs cpus and memory");
            }
            boolean oneShot = "no".equals(String.valueOf(svc.get("restart")));
            Map<String, Object> labels = map(svc.get("labels"));
            boolean waived = labels != null && labels.get(NO_PROBES) != null;
            if (svc.get("healthcheck") == null && !oneShot && !waived) {
                problems.add(where + ": no healthcheck (or restart: \"no\" for a one-shot, or a " + NO_PROBES + " label saying why)");
            }
            if (svc.get("ports") != null && svc.get("healthcheck") == null) {
                problems.add(where + ": publishes ports but has no healthcheck");
            }
            Object env = svc.get("environment");
            if (env instanceof Map<?, ?> m) {
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    String name = String.valueOf(e.getKey());
                    if (SECRET_NAME.matcher(name).matches() && !SUBSTITUTION.matcher(String.valueOf(e.getValue())).matches()) {
                        problems.add(where + ": " + name + " must come from the environment (${VAR:?…}), not an inline value");
                    }
                }
            } else if (env instanceof List<?> l) {
                for (Object e : l) {
                    String[] kv = String.valueOf(e).split("=", 2);
                    if (SECRET_NAME.matcher(kv[0]).matches() && (kv.length < 2 || !SUBSTITUTION.matcher(kv[1]).matches())) {
                        problems.add(where + ": " + kv[0] + " must come from the environment (${VAR:?…}), not an inline value");
                    }
                }
            }
            Object deps = svc.get("depends_on");
            Iterable<?> names = deps instanceof Map<?, ?> dm ? dm.keySet() : deps instanceof List<?> dl ? dl : List.of();
            for (Object d : names) {
                if (!services.containsKey(String.valueOf(d))) {
                    problems.add(where + ": depends on unknown service " + d);
                }
            }
        }
        return problems;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    static String str(Object o) {
        return o == null ? null : Objects.toString(o);
    }
}
