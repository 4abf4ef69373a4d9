package io.trellis.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Parses every YAML file under infra/ and holds it to {@link DeploymentRules}; checks the Dockerfiles' images. */
class DeploymentAssetsTest {
    private static final Path INFRA = Path.of("").toAbsolutePath();

    private static List<Map<String, Object>> load(Path file) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file)) {
            for (Object o : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r)) {
                if (o != null) {
                    assertThat(o).as(file + " holds a mapping").isInstanceOf(Map.class);
                    docs.add(DeploymentRules.map(o));
                }
            }
        }
        assertThat(docs).as(file + " is not empty").isNotEmpty();
        return docs;
    }

    private static List<Path> yamlFiles(String dir) throws IOException {
        try (Stream<Path> s = Files.walk(INFRA.resolve(dir))) {
            return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
    }

    @Test
    void everyKubernetesManifestParsesAndFollowsTheRules() throws IOException {
        List<Path> files = yamlFiles("k8s");
        assertThat(files).extracting(p -> p.getFileName().toString())
                .contains("worker-deployment.yaml", "api-deployment.yaml", "configmap.yaml", "spark-executor-pod-template.yaml");
        List<String> problems = new ArrayList<>();
        Map<String, Map<String, Object>> byKindAndName = new LinkedHashMap<>();
        for (Path f : files) {
            for (Map<String, Object> doc : load(f)) {
                problems.addAll(DeploymentRules.kubernetes(INFRA.relativize(f).toString(), doc));
                byKindAndName.put(doc.get("kind") + "/" + DeploymentRules.map(doc.get("metadata")).get("name"), doc);
            }
        }
        assertThat(problems).isEmpty();

        Map<String, Object> api = container(byKindAndName.get("Deployment/trellis-api"));
        assertThat(api.get("args")).isEqualTo(List.of("api", "--bind", "0.0.0.0", "--port", "8080"));
        assertThat(probe(api, "livenessProbe")).isEqualTo("/healthz");
        assertThat(probe(api, "readinessProbe")).isEqualTo("/readyz");
        assertThat(api.get("ports").toString()).contains("containerPort=8080");
        // one worker Deployment per task queue, the Spark one with the larger requests
        assertThat(byKindAndName).doesNotContainKey("Deployment/trellis-worker");
        Map<String, String> queuesByDeployment = new LinkedHashMap<>();
        for (String name : List.of("trellis-worker-orchestration", "trellis-worker-spark")) {
            assertThat(byKindAndName).containsKey("Deployment/" + name);
            Map<String, Object> worker = container(byKindAndName.get("Deployment/" + name));
            assertThat(worker.get("args")).isEqualTo(List.of("worker", "--health-port", "8081", "--health-bind", "0.0.0.0"));
            assertThat(probe(worker, "livenessProbe")).isEqualTo("/healthz");
            assertThat(probe(worker, "readinessProbe")).isEqualTo("/readyz");
            queuesByDeployment.put(name, env(worker, "TRELLIS_WORKER_QUEUES"));
        }
        assertThat(queuesByDeployment).containsExactly(Map.entry("trellis-worker-orchestration", "orchestration"),
                Map.entry("trellis-worker-spark", "spark"));
        Map<String, Object> orchestration = requests(container(byKindAndName.get("Deployment/trellis-worker-orchestration")));
        Map<String, Object> spark = requests(container(byKindAndName.get("Deployment/trellis-worker-spark")));
        assertThat(cpu(spark.get("cpu"))).isGreaterThan(cpu(orchestration.get("cpu")));
        assertThat(bytes(spark.get("memory"))).isGreaterThan(bytes(orchestration.get("memory")));
        // every configured setting is one Trellis knows (a typo would be silently ignored by the worker)
        Map<String, Object> config = DeploymentRules.map(byKindAndName.get("ConfigMap/trellis-config").get("data"));
        assertThat(config.keySet()).allSatisfy(k -> assertThat(k).matches("TRELLIS_[A-Z0-9_]+"));
    }

    @Test
    void theComposeStackParsesPinsEveryImageAndInlinesNoSecret() throws IOException {
        Path file = INFRA.resolve("compose/docker-compose.yaml");
        List<Map<String, Object>> docs = load(file);
        assertThat(docs).hasSize(1);
        assertThat(DeploymentRules.compose("compose/docker-compose.yaml", docs.get(0))).isEmpty();
        Map<String, Object> services = DeploymentRules.map(docs.get(0).get("services"));
        assertThat(services).containsKeys("postgres", "temporal", "temporal-ui", "minio", "spark-master", "spark-worker",
                "trellis-worker-orchestration", "trellis-worker-spark", "trellis-api");
        assertThat(images(services)).anyMatch(i -> i.startsWith("temporalio/auto-setup:"))
                .anyMatch(i -> i.startsWith("temporalio/ui:")).anyMatch(i -> i.startsWith("postgres:"));
        Map<String, Object> api = DeploymentRules.map(services.get("trellis-api"));
        assertThat(api.get("command")).isEqualTo(List.of("api", "--bind", "0.0.0.0", "--port", "8080"));
        assertThat(String.valueOf(DeploymentRules.map(api.get("healthcheck")).get("test"))).contains("/readyz");
        assertThat(services).doesNotContainKey("trellis-worker");
        for (String queues : List.of("orchestration", "spark")) {
            Map<String, Object> worker = DeploymentRules.map(services.get("trellis-worker-" + queues));
            assertThat(worker.get("command")).isEqualTo(List.of("worker", "--health-port", "8081", "--health-bind", "0.0.0.0"));
            assertThat(String.valueOf(DeploymentRules.map(worker.get("healthcheck")).get("test"))).contains("127.0.0.1/8081", "/readyz");
            // the shared settings (merged from x-trellis-env) plus the worker's queue
            Map<String, Object> env = DeploymentRules.map(worker.get("environment"));
            assertThat(env).containsEntry("TRELLIS_WORKER_QUEUES", queues).containsEntry("TRELLIS_TEMPORAL_ADDRESS", "temporal:7233");
        }
        assertThat(DeploymentRules.map(api.get("environment")).get("TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS")).isEqualTo("http://127.0.0.1:8233,http://localhost:8233");

        // the example .env names each variable the file requires and holds no value
        List<String> required = java.util.regex.Pattern.compile("\\$\\{([A-Z0-9_]+):\\?").matcher(Files.readString(file))
                .results().map(m -> m.group(1)).distinct().toList();
        Map<String, String> example = Files.readAllLines(INFRA.resolve("compose/.env.example")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).map(l -> l.split("=", 2))
                .collect(Collectors.toMap(kv -> kv[0], kv -> kv.length > 1 ? kv[1] : ""));
        assertThat(example.keySet()).containsExactlyInAnyOrderElementsOf(required);
        assertThat(example.values()).allMatch(String::isEmpty);
    }

    @Test
    void dockerfilesBuildFromPinnedImages() throws IOException {
        try (Stream<Path> s = Files.list(INFRA.resolve("docker"))) {
            List<Path> dockerfiles = s.filter(p -> p.getFileName().toString().startsWith("Dockerfile")).toList();
            assertThat(dockerfiles).hasSize(2);
            for (Path f : dockerfiles) {
                List<String> from = Files.readAllLines(f).stream().filter(l -> l.startsWith("FROM ")).map(l -> l.split("\\s+")[1]).toList();
                assertThat(from).as(f.toString()).isNotEmpty().allMatch(DeploymentRules::pinned);
            }
        }
    }

    @Test
    void theRulesCatchInlineSecretsFloatingImagesAndMissingResourcesOrProbes() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> doc : load(Path.of("src/test/resources/bad/deployment.yaml"))) {
            problems.addAll(DeploymentRules.kubernetes("bad/deployment.yaml", doc));
        }
        assertThat(problems).containsExactlyInAnyOrder(
                "bad/deployment.yaml Deployment/bad container app: image 'trellis:latest' is not pinned to an exact tag",
                "bad/deployment.yaml Deployment/bad container app: resources.limits needs cpu and memory",
                "bad/deployment.yaml Deployment/bad container app: no liveness and readiness probes (or a trellis.io/probes annotation saying why)",
                "bad/deployment.yaml Deployment/bad container app: serves ports but has no liveness and readiness probes",
                "bad/deployment.yaml Deployment/bad container app: env TRELLIS_DB_PASSWORD must come from a secretKeyRef, not an inline value",
                "bad/deployment.yaml Deployment/bad container app: env AWS_SECRET_ACCESS_KEY must come from a secretKeyRef, not an inline value",
                "bad/deployment.yaml Secret/creds: a Secret with values is checked in; create it with kubectl instead",
                "bad/deployment.yaml ConfigMap/cfg: secret-like key TRELLIS_DB_PASSWORD in a ConfigMap; use a Secret");
        List<String> composeProblems = DeploymentRules.compose("bad/compose.yaml", load(Path.of("src/test/resources/bad/compose.yaml")).get(0));
        assertThat(composeProblems).containsExactlyInAnyOrder(
                "bad/compose.yaml service db: image 'postgres' is not pinned to an exact tag",
                "bad/compose.yaml service db: POSTGRES_PASSWORD must come from the environment (${VAR:?…}), not an inline value",
                "bad/compose.yaml service db: deploy.resources.limits needs cpus and memory",
                "bad/compose.yaml service app: no healthcheck (or restart: \"no\" for a one-shot, or a trellis.io/probes label saying why)",
                "bad/compose.yaml service app: publishes ports but has no healthcheck",
                "bad/compose.yaml service app: AWS_SECRET_ACCESS_KEY must come from the environment (${VAR:?…}), not an inline value",
                "bad/compose.yaml service app: depends on unknown service cache");
        assertThat(DeploymentRules.pinned("minio/minio:RELEASE.2025-04-22T22-12-26Z")).isTrue();
        assertThat(DeploymentRules.pinned("localhost:5000/trellis")).isFalse();
        assertThat(DeploymentRules.pinned("registry.example.com/trellis@sha256:" + "a".repeat(64))).isTrue();
    }

    private static Map<String, Object> container(Map<String, Object> deployment) {
        Map<String, Object> spec = DeploymentRules.map(DeploymentRules.map(DeploymentRules.map(deployment.get("spec")).get("template")).get("spec"));
        return DeploymentRules.map(((List<?>) spec.get("containers")).get(0));
    }

    private static String env(Map<String, Object> container, String name) {
        return ((List<?>) container.get("env")).stream().map(DeploymentRules::map).filter(e -> name.equals(e.get("name")))
                .map(e -> String.valueOf(e.get("value"))).findFirst().orElseThrow(() -> new AssertionError("no env " + name));
    }

    private static Map<String, Object> requests(Map<String, Object> container) {
        return DeploymentRules.map(DeploymentRules.map(container.get("resources")).get("requests"));
    }

    /** A Kubernetes CPU quantity ("500m", "4") in millicores. */
    private static long cpu(Object quantity) {
        String q = String.valueOf(quantity);
        return q.endsWith("m") ? Long.parseLong(q.substring(0, q.length() - 1)) : Math.round(Double.parseDouble(q) * 1000);
    }

    /** A Kubernetes memory quantity in Mi or Gi, in MiB. */
    private static long bytes(Object quantity) {
        String q = String.valueOf(quantity);
        if (q.endsWith("Gi")) {
            return Long.parseLong(q.substring(0, q.length() - 2)) * 1024;
        }
        assertThat(q).endsWith("Mi");
        return Long.parseLong(q.substring(0, q.length() - 2));
    }

    private static Object probe(Map<String, Object> container, String probe) {
        return DeploymentRules.map(DeploymentRules.map(container.get(probe)).get("httpGet")).get("path");
    }

    private static List<String> images(Map<String, Object> services) {
        return services.values().stream().map(s -> String.valueOf(DeploymentRules.map(s).get("image"))).toList();
    }
}
