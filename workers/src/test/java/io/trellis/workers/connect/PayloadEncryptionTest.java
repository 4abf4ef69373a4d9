package io.trellis.workers.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.payload.codec.PayloadCodecException;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.spec.TrellisException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class PayloadEncryptionTest {
    static final String K1 = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
    static final String K2 = Base64.getEncoder().encodeToString("fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII));
    private static final String SECRET = "customer-ssn-078-05-1120";

    private static Payload plain(String text) {
        return DefaultDataConverter.newDefaultInstance().toPayload(text).orElseThrow();
    }

    private static String text(Payload p) {
        return DefaultDataConverter.newDefaultInstance().fromPayload(p, String.class, String.class);
    }

    @Test
    void encryptsEveryPayloadNamesItsKeyAndDecryptsItBack() {
        PayloadEncryption codec = PayloadEncryption.parse("k1:" + K1);
        Payload sealed = codec.encode(List.of(plain(SECRET))).get(0);
        assertThat(sealed.getMetadataMap().get("encoding").toStringUtf8()).isEqualTo(PayloadEncryption.ENCODING_ENCRYPTED);
        assertThat(sealed.getMetadataMap().get(PayloadEncryption.KEY_ID).toStringUtf8()).isEqualTo("k1");
        assertThat(sealed.toByteString().toStringUtf8()).doesNotContain(SECRET);
        assertThat(text(codec.decode(List.of(sealed)).get(0))).isEqualTo(SECRET);
        // a fresh nonce each time: equal inputs do not give equal ciphertexts
        assertThat(codec.encode(List.of(plain(SECRET))).get(0).getData()).isNotEqualTo(sealed.getData());
        // payloads written before encryption was turned on still read
        assertThat(text(codec.decode(List.of(plain("old"))).get(0))).isEqualTo("old");
    }

    @Test
    void rotationEncryptsWithTheNewKeyAndStillDecryptsWhatTheOldOneSealed() {
        PayloadEncryption before = PayloadEncryption.parse("k1:" + K1);
        PayloadEncryption after = PayloadEncryption.parse("k2:" + K2 + ", k1:" + K1);
        Payload old = before.encode(List.of(plain("sealed with k1"))).get(0);
        Payload fresh = after.encode(List.of(plain("sealed with k2"))).get(0);
        assertThat(after.activeKeyId()).isEqualTo("k2");
        assertThat(fresh.getMetadataMap().get(PayloadEncryption.KEY_ID).toStringUtf8()).isEqualTo("k2");
        assertThat(text(after.decode(List.of(old)).get(0))).isEqualTo("sealed with k1");
        assertThat(text(after.decode(List.of(fresh)).get(0))).isEqualTo("sealed with k2");
        // a process that does not have the new key yet says which key it lacks
        assertThatThrownBy(() -> before.decode(List.of(fresh))).isInstanceOf(PayloadCodecException.class)
                .hasMessageContaining("key id 'k2'").hasMessageContaining("[k1]").hasMessageContaining("TRELLIS_TEMPORAL_CODEC_KEYS");
    }

    @Test
    void tamperedPayloadsAndSwappedKeyIdsFailAuthentication() {
        PayloadEncryption codec = PayloadEncryption.parse("k2:" + K2 + ",k1:" + K1);
        Payload sealed = codec.encode(List.of(plain(SECRET))).get(0);
        byte[] data = sealed.getData().toByteArray();
        data[data.length / 2] ^= 0x01;
        Payload flipped = sealed.toBuilder().setData(ByteString.copyFrom(data)).build();
        assertThatThrownBy(() -> codec.decode(List.of(flipped))).isInstanceOf(PayloadCodecException.class)
                .hasMessageContaining("failed authentication");
        Payload relabelled = sealed.toBuilder().putMetadata(PayloadEncryption.KEY_ID, ByteString.copyFromUtf8("k1")).build();
        assertThatThrownBy(() -> codec.decode(List.of(relabelled))).isInstanceOf(PayloadCodecException.class)
                .hasMessageContaining("failed authentication");
        Payload truncated = sealed.toBuilder().setData(sealed.getData().substring(0, 10)).build();
        assertThatThrownBy(() -> codec.decode(List.of(truncated))).isInstanceOf(PayloadCodecException.class)
                .hasMessageContaining("too short");
        Payload noKeyId = sealed.toBuilder().removeMetadata(PayloadEncryption.KEY_ID).build();
        assertThatThrownBy(() -> codec.decode(List.of(noKeyId))).isInstanceOf(PayloadCodecException.class)
                .hasMessageContaining("no " + PayloadEncryption.KEY_ID);
    }

    @Test
    void badKeySettingsAreRejectedWithoutEchoingKeyMaterial() {
        String shortKey = Base64.getEncoder().encodeToString("too-short".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> PayloadEncryption.parse("k1:" + shortKey)).isInstanceOf(TrellisException.class)
                .hasMessageContaining("TRELLIS_TEMPORAL_CODEC_KEYS").hasMessageContaining("9 bytes").hasMessageNotContaining(shortKey);
        assertThatThrownBy(() -> PayloadEncryption.parse("k1:not base64!!")).hasMessageContaining("not valid base64")
                .hasMessageNotContaining("not base64!!");
        assertThatThrownBy(() -> PayloadEncryption.parse(K1)).hasMessageContaining("<key id>:<base64 key>");
        assertThatThrownBy(() -> PayloadEncryption.parse("k1:" + K1 + ",k1:" + K2)).hasMessageContaining("appears twice");
        assertThatThrownBy(() -> PayloadEncryption.parse("bad id:" + K1)).hasMessageContaining("key id 'bad id'");
        assertThat(PayloadEncryption.parse("k2:" + K2 + ",k1:" + K1).toString()).isEqualTo("PayloadEncryption[active=k2, keys=[k2, k1]]")
                .doesNotContain(K1).doesNotContain(K2);
    }

    @Test
    void aWorkflowRunsEndToEndWithTheCodecAndItsHistoryHoldsOnlyCiphertext() {
        PayloadEncryption codec = PayloadEncryption.parse("k1:" + K1);
        TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
                .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setDataConverter(codec.dataConverter()).build()).build());
        try {
            Worker worker = env.newWorker(EchoWorkflow.TASK_QUEUE);
            worker.registerWorkflowImplementationTypes(EchoWorkflow.Impl.class);
            worker.registerActivitiesImplementations(new EchoWorkflow.ActivitiesImpl());
            env.start();
            EchoWorkflow wf = env.getWorkflowClient().newWorkflowStub(EchoWorkflow.class,
                    WorkflowOptions.newBuilder().setTaskQueue(EchoWorkflow.TASK_QUEUE).setWorkflowId("codec-e2e").build());
            assertThat(wf.echo(SECRET)).isEqualTo("seen:" + SECRET);
            assertHistoryEncrypted(env.getWorkflowClient(), "codec-e2e", SECRET);
        } finally {
            env.close();
        }
    }

    /** The raw history as the server stores it: every payload is sealed, and the secret appears nowhere. */
    static void assertHistoryEncrypted(WorkflowClient client, String workflowId, String secret) {
        List<HistoryEvent> events = client.fetchHistory(workflowId).getEvents();
        assertThat(events).extracting(HistoryEvent::getEventType).contains(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
        Payload input = events.get(0).getWorkflowExecutionStartedEventAttributes().getInput().getPayloads(0);
        Payload result = events.get(events.size() - 1).getWorkflowExecutionCompletedEventAttributes().getResult().getPayloads(0);
        for (Payload p : List.of(input, result)) {
            assertThat(p.getMetadataMap().get("encoding").toStringUtf8()).isEqualTo(PayloadEncryption.ENCODING_ENCRYPTED);
            assertThat(p.getMetadataMap().get(PayloadEncryption.KEY_ID).toStringUtf8()).isEqualTo("k1");
        }
        for (HistoryEvent e : events) {
            assertThat(e.toByteString().toStringUtf8()).as("event %s", e.getEventType()).doesNotContain(secret);
        }
    }
}
