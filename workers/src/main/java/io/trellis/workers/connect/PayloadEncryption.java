package io.trellis.workers.connect;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Temporal payload codec that encrypts every payload with AES-GCM before it leaves the process, so workflow
 * inputs, results, heartbeat details and query answers are stored encrypted in the Temporal cluster. Each encrypted
 * payload names its key in its metadata ({@value #KEY_ID}), so keys rotate without breaking running workflows:
 * new payloads use the first (active) key, and every configured key still decrypts what it encrypted. The key id
 * and the encoding are authenticated with the data (GCM associated data), so neither can be swapped unnoticed.
 * Payloads that were stored before encryption was turned on (no {@value #ENCODING_ENCRYPTED} encoding) pass
 * through unchanged. Key material never appears in messages or {@link #toString()}.
 */
public final class PayloadEncryption implements PayloadCodec {
    public static final String ENCODING_ENCRYPTED = "binary/encrypted";
    public static final String KEY_ID = "encryption-key-id";
    public static final String CIPHER = "encryption-cipher";
    private static final String METADATA_ENCODING = "encoding";
    private static final String ALGORITHM = "AES/GCM/NoPadding";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final Pattern KEY_ID_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final String activeKeyId;
    private final Map<String, SecretKey> keys;
    private final SecureRandom random = new SecureRandom();

    private PayloadEncryption(String activeKeyId, Map<String, SecretKey> keys) {
        this.activeKeyId = activeKeyId;
        this.keys = keys;
    }

    /**
     * Parses {@code trellis.temporal.codec.keys}: {@code id:base64key[,id:base64key…]}, the first being the active key;
     * each key is 16, 24 or 32 random bytes (AES-128/192/256), e.g. {@code openssl rand -base64 32}.
     */
    public static PayloadEncryption parse(String setting) {
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        String active = null;
        for (String entry : setting.split(",")) {
            String e = entry.trim();
            int colon = e.indexOf(':');
            if (colon < 0) {
                throw invalid("each entry must be <key id>:<base64 key>; an entry has no ':'");
            }
            String id = e.substring(0, colon).trim();
            if (!KEY_ID_PATTERN.matcher(id).matches()) {
                throw invalid("key id '" + id + "' must be 1-64 letters, digits, '.', '_' or '-'");
            }
            byte[] material;
            try {
                material = Base64.getDecoder().decode(e.substring(colon + 1).trim());
            } catch (IllegalArgumentException x) {
                throw invalid("the key of id '" + id + "' is not valid base64");
            }
            if (material.length != 16 && material.length != 24 && material.length != 32) {
                throw invalid("the key of id '" + id + "' is " + material.length + " bytes; AES needs 16, 24 or 32 (openssl rand -base64 32)");
            }
            if (keys.put(id, new SecretKeySpec(material, "AES")) != null) {
                throw invalid("key id '" + id + "' appears twice");
            }
            if (active == null) {
                active = id;
            }
        }
        if (active == null) {
            throw invalid("no key given");
        }
        return new PayloadEncryption(active, java.util.Collections.unmodifiableMap(keys)); // in configured order
    }

    /** The SDK's default JSON/protobuf conversion, with this codec applied to every payload. */
    public DataConverter dataConverter() {
        return new CodecDataConverter(DefaultDataConverter.newDefaultInstance(), List.of(this));
    }

    public String activeKeyId() {
        return activeKeyId;
    }

    @Override
    public List<Payload> encode(List<Payload> payloads) {
        List<Payload> out = new ArrayList<>(payloads.size());
        SecretKey key = keys.get(activeKeyId);
        for (Payload p : payloads) {
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            try {
                Cipher cipher = Cipher.getInstance(ALGORITHM);
                cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
                cipher.updateAAD(associatedData(activeKeyId));
                byte[] sealed = cipher.doFinal(p.toByteArray());
                out.add(Payload.newBuilder()
                        .putMetadata(METADATA_ENCODING, ByteString.copyFromUtf8(ENCODING_ENCRYPTED))
                        .putMetadata(KEY_ID, ByteString.copyFromUtf8(activeKeyId))
                        .putMetadata(CIPHER, ByteString.copyFromUtf8(ALGORITHM))
                        .setData(ByteString.copyFrom(ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array()))
                        .build());
            } catch (GeneralSecurityException e) {
                throw new PayloadCodecException("cannot encrypt a payload with key '" + activeKeyId + "': " + e.getClass().getSimpleName());
            }
        }
        return out;
    }

    @Override
    public List<Payload> decode(List<Payload> payloads) {
        List<Payload> out = new ArrayList<>(payloads.size());
        for (Payload p : payloads) {
            ByteString encoding = p.getMetadataMap().get(METADATA_ENCODING);
            if (encoding == null || !encoding.toStringUtf8().equals(ENCODING_ENCRYPTED)) {
                out.add(p); // written before encryption was turned on
                continue;
            }
            ByteString idBytes = p.getMetadataMap().get(KEY_ID);
            if (idBytes == null) {
                throw new PayloadCodecException("an encrypted payload has no " + KEY_ID + " metadata; it was not written by this codec");
            }
            String id = idBytes.toStringUtf8();
            SecretKey key = keys.get(id);
            if (key == null) {
                throw new PayloadCodecException("a payload is encrypted with key id '" + id + "', which is not among the configured keys "
                        + keys.keySet() + "; add that key to trellis.temporal.codec.keys (TRELLIS_TEMPORAL_CODEC_KEYS) after the active one");
            }
            byte[] data = p.getData().toByteArray();
            if (data.length < NONCE_BYTES + TAG_BITS / 8) {
                throw new PayloadCodecException("an encrypted payload (key id '" + id + "') is too short to be genuine: it was truncated or altered");
            }
            try {
                Cipher cipher = Cipher.getInstance(ALGORITHM);
                cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, data, 0, NONCE_BYTES));
                cipher.updateAAD(associatedData(id));
                out.add(Payload.parseFrom(cipher.doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES)));
            } catch (AEADBadTagException e) {
                throw new PayloadCodecException("an encrypted payload (key id '" + id + "') failed authentication: it was altered,"
                        + " or key '" + id + "' is not the key that encrypted it");
            } catch (GeneralSecurityException | InvalidProtocolBufferException e) {
                throw new PayloadCodecException("cannot decrypt a payload with key '" + id + "': " + e.getClass().getSimpleName());
            }
        }
        return out;
    }

    private static byte[] associatedData(String keyId) {
        return (ENCODING_ENCRYPTED + "|" + ALGORITHM + "|" + keyId).getBytes(StandardCharsets.UTF_8);
    }

    private static TrellisException invalid(String what) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, "trellis.temporal.codec.keys (TRELLIS_TEMPORAL_CODEC_KEYS): " + what);
    }

    /** Names the key ids only, never key material. */
    @Override
    public String toString() {
        return "PayloadEncryption[active=" + activeKeyId + ", keys=" + keys.keySet() + "]";
    }
}
