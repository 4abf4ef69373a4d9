package io.trellis.workers.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written OpenAPI document and the implemented routes describe the same API, in both directions. */
class OpenApiDocumentTest {
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
    private final List<Route> routes = new TrellisApi(null, new ApiMetrics()).routes();
    private final JsonNode doc = OpenApiDocument.tree();

    private JsonNode operation(Route r) {
        return doc.path("paths").path(r.path()).path(r.method().toLowerCase());
    }

    /** Resolves a {@code $ref} inside the document. */
    private JsonNode resolve(JsonNode node) {
        if (!node.has("$ref")) {
            return node;
        }
        JsonNode target = doc;
        for (String part : node.get("$ref").asText().substring(2).split("/")) {
            target = target.path(part);
        }
        return target;
    }

    private List<JsonNode> parameters(JsonNode op, String in) {
        List<JsonNode> out = new ArrayList<>();
        op.path("parameters").forEach(p -> {
            JsonNode resolved = resolve(p);
            if (resolved.path("in").asText().equals(in)) {
                out.add(resolved);
            }
        });
        return out;
    }

    @Test
    void everyRouteIsDocumentedWithItsOperationIdAccessAndParameters() {
        Pattern template = Pattern.compile("\\{([^}]+)}");
        for (Route r : routes) {
            JsonNode op = operation(r);
            assertThat(op.isMissingNode()).as("%s %s is in the document", r.method(), r.path()).isFalse();
            assertThat(op.path("operationId").asText()).as("operationId of %s %s", r.method(), r.path()).isEqualTo(r.operationId());
            assertThat(op.path("x-trellis-access").asText()).as("access of %s", r.operationId()).isEqualTo(r.access().name());
            boolean publicRoute = r.access() == Access.PUBLIC;
            assertThat(op.has("security") && op.get("security").isEmpty()).as("security of %s", r.operationId()).isEqualTo(publicRoute);
            if (!publicRoute) {
                assertThat(op.path("responses").has("401")).as("%s documents 401", r.operationId()).isTrue();
                assertThat(op.path("responses").has("403")).as("%s documents 403", r.operationId()).isTrue();
            }
            Set<String> pathParams = new TreeSet<>();
            Matcher m = template.matcher(r.path());
            while (m.find()) {
                pathParams.add(m.group(1));
            }
            assertThat(parameters(op, "path")).as("path parameters of %s", r.operationId())
                    .extracting(p -> p.get("name").asText()).containsExactlyInAnyOrderElementsOf(pathParams);
            assertThat(parameters(op, "path")).allMatch(p -> p.path("required").asBoolean());
            assertThat(parameters(op, "query")).as("query parameters of %s", r.operationId())
                    .extracting(p -> p.get("name").asText()).containsExactlyInAnyOrderElementsOf(r.queryParameters());
            assertThat(op.has("requestBody")).as("%s has a request body iff it is a POST or PUT", r.operationId())
                    .isEqualTo(r.method().equals("POST") || r.method().equals("PUT"));
        }
    }

    @Test
    void everyDocumentedOperationIsImplemented() {
        Set<String> implemented = new HashSet<>();
        routes.forEach(r -> implemented.add(r.method().toLowerCase() + " " + r.path()));
        Set<String> documented = new TreeSet<>();
        Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").properties().iterator();
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(method -> {
                if (HTTP_METHODS.contains(method)) {
                    documented.add(method + " " + path.getKey());
                }
            });
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(implemented);
        Set<String> operationIds = new HashSet<>();
        routes.forEach(r -> assertThat(operationIds.add(r.operationId())).as("operationId %s is unique", r.operationId()).isTrue());
    }

    @Test
    void theDocumentIsOpenApi31AndEveryReferenceResolves() {
        assertThat(doc.path("openapi").asText()).startsWith("3.1");
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(resolve(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("$ref", ref)).isMissingNode()).as("%s resolves", ref).isFalse();
        }
    }

    private static void collectRefs(JsonNode node, List<String> refs) {
        if (node.has("$ref")) {
            refs.add(node.get("$ref").asText());
        }
        node.forEach(child -> collectRefs(child, refs));
    }
}
