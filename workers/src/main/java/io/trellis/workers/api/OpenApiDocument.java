package io.trellis.workers.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The OpenAPI 3.1 document, written by hand in {@code openapi.yaml} next to this class (so that it is a statement
 * about the API, not a dump of it) and served as JSON. {@code OpenApiDocumentTest} checks it against the routes.
 */
public final class OpenApiDocument {
    private static final String RESOURCE = "openapi.yaml";
    private static volatile byte[] json;

    private OpenApiDocument() {}

    public static JsonNode tree() {
        try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            return new ObjectMapper(new YAMLFactory()).readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] json() {
        byte[] cached = json;
        if (cached == null) {
            cached = Json.write(tree());
            json = cached;
        }
        return cached;
    }
}
