package io.trellis.workers.api;

import java.util.List;
import java.util.Set;

/**
 * One endpoint: method, path template ({@code /api/v1/models/{model}}), who may call it, the query parameters it
 * accepts (any other is refused) and its handler. The OpenAPI document must list exactly these (a test checks).
 */
public record Route(String method, String path, Access access, String operationId, Set<String> queryParameters, Handler handler) {
    /** Answers one request; throws {@link ApiProblem} or {@link io.trellis.spec.TrellisException} for user errors. */
    @FunctionalInterface
    public interface Handler {
        ApiResponse handle(ApiRequest request) throws Exception;
    }

    public Route {
        queryParameters = Set.copyOf(queryParameters);
    }

    public List<String> segments() {
        return List.of(path.substring(1).split("/"));
    }
}
