package io.trellis.activities.artifacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalArtifactStoreTest {
    @TempDir
    Path tmp;

    private Path model(String name, String content) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve("stages/0"));
        Files.writeString(dir.resolve("metadata.json"), "{\"class\":\"PipelineModel\"}");
        Files.writeString(dir.resolve("stages/0/part-0"), content);
        return dir;
    }

    @Test
    void storesAndFetchesWithAChecksumThatDependsOnContentNotLocation() throws Exception {
        LocalArtifactStore store = new LocalArtifactStore(tmp.resolve("store"));
        ArtifactRef a = store.put("m/runs/1", model("a", "weights-1"));
        ArtifactRef b = store.put("m/runs/2", model("b", "weights-1"));
        ArtifactRef c = store.put("m/runs/3", model("c", "weights-2"));

        assertThat(a.sha256()).hasSize(64).isEqualTo(b.sha256()).isNotEqualTo(c.sha256());
        assertThat(a.bytes()).isEqualTo("{\"class\":\"PipelineModel\"}".length() + "weights-1".length());
        assertThat(a.uri()).startsWith("file:").endsWith("m/runs/1/");
        Path fetched = store.fetch(a);
        assertThat(Files.readString(fetched.resolve("stages/0/part-0"))).isEqualTo("weights-1");
    }

    @Test
    void storingAKeyAgainReplacesItWhole() throws Exception {
        LocalArtifactStore store = new LocalArtifactStore(tmp.resolve("store"));
        store.put("m/runs/1", model("a", "first attempt"));
        ArtifactRef second = store.put("m/runs/1", model("b", "second attempt"));

        assertThat(Files.readString(store.fetch(second).resolve("stages/0/part-0"))).isEqualTo("second attempt");
        try (var siblings = Files.list(store.root().resolve("m/runs"))) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactly("1");
        }
    }

    @Test
    void aTamperedArtifactIsRefused() throws Exception {
        LocalArtifactStore store = new LocalArtifactStore(tmp.resolve("store"));
        ArtifactRef ref = store.put("m/runs/1", model("a", "weights"));
        Files.writeString(store.root().resolve("m/runs/1/stages/0/part-0"), "tampered");

        assertThatThrownBy(() -> store.fetch(ref))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("was modified or damaged")
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH));
    }

    @Test
    void keysCannotEscapeTheRoot() {
        LocalArtifactStore store = new LocalArtifactStore(tmp.resolve("store"));
        assertThatThrownBy(() -> store.put("../outside", tmp)).isInstanceOf(IllegalArgumentException.class);
    }
}
