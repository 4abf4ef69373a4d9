package io.trellis.workers.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.payload.codec.PayloadCodecException;
import io.trellis.workers.connect.PayloadEncryption;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Temporal's codec server protocol on the API server, for the Temporal UI ("Data Encoder", {@code TEMPORAL_CODEC_ENDPOINT})
 * and the CLI ({@code --codec-endpoint}): {@code POST /codec/decode} and {@code POST /codec/encode} take and answer
 * {@code {"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}} (the proto3 JSON of Temporal's
 * {@code Payloads}: bytes as base64) and run them through {@link PayloadEncryption} with this process's
 * {@code trellis.temporal.codec.keys}. Both need a token with a read role ({@link Access#READ}): a decoded payload
 * shows no more than the API's own reads of runs and versions, and an encoded one is only ciphertext that Temporal's own
 * authorization still guards. With encryption off, payloads pass through unchanged and an encrypted one cannot be
 * decoded (422 naming the missing key).
 */
final class CodecEndpoints {
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

    private final Supplier<Optional<PayloadEncryption>> codec;

    CodecEndpoints(Supplier<Optional<PayloadEncryption>> codec) {
        this.codec = codec;
    }

    List<Route> routes() {
        return List.of(
                new Route("POST", "/codec/decode", Access.READ, "decodePayloads", Set.of(), r -> answer(decode(read(r)))),
                new Route("POST", "/codec/encode", Access.READ, "encodePayloads", Set.of(), r -> answer(encode(read(r)))));
    }

    private List<Payload> decode(List<Payload> payloads) {
        Optional<PayloadEncryption> keys = codec.get();
        if (keys.isPresent()) {
            try {
                return keys.get().decode(payloads);
            } catch (PayloadCodecException e) {
                throw undecodable(e.getMessage());
            }
        }
        for (Payload p : payloads) {
            var encoding = p.getMetadataMap().get("encoding");
            if (encoding != null && encoding.toStringUtf8().equals(PayloadEncryption.ENCODING_ENCRYPTED)) {
                var keyId = p.getMetadataMap().get(PayloadEncryption.KEY_ID);
                throw undecodable("a payload is encrypted with key id '" + (keyId == null ? "(none)" : keyId.toStringUtf8())
                        + "', but this API server has no keys: set trellis.temporal.codec.keys (TRELLIS_TEMPORAL_CODEC_KEYS) as on the workers");
            }
        }
        return payloads;
    }

    private List<Payload> encode(List<Payload> payloads) {
        return codec.get().map(keys -> keys.encode(payloads)).orElse(payloads);
    }

    private static ApiProblem undecodable(String detail) {
        return new ApiProblem(422, "undecodable-payload", "Payload cannot be decoded", detail);
    }

    private static List<Payload> read(ApiRequest r) {
        byte[] body = r.rawBody();
        if (body.length == 0) {
            throw ApiProblem.badRequest("This request needs a JSON body: {\"payloads\":[{\"metadata\":{\"encoding\":\"<base64>\"},\"data\":\"<base64>\"}]}.");
        }
        Payloads.Builder payloads = Payloads.newBuilder();
        try {
            PARSER.merge(new String(body, StandardCharsets.UTF_8), payloads);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw ApiProblem.badRequest("The body is not a Temporal payload list {\"payloads\":[{\"metadata\":{\"<key>\":\"<base64>\"},"
                    + "\"data\":\"<base64>\"}]} (metadata values and data are base64): " + ApiRequest.clip(String.valueOf(e.getMessage())));
        }
        return payloads.getPayloadsList();
    }

    private static ApiResponse answer(List<Payload> payloads) throws InvalidProtocolBufferException {
        // proto3 JSON leaves an empty list out; the UI expects the field.
        String json = payloads.isEmpty() ? "{\"payloads\":[]}" : PRINTER.print(Payloads.newBuilder().addAllPayloads(payloads).build());
        return new ApiResponse(200, ApiResponse.JSON, Map.of(), json.getBytes(StandardCharsets.UTF_8));
    }
}
