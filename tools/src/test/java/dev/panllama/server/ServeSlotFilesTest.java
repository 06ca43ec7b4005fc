package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.panllama.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama-server's slot actions on stories260K: a slot's cache saved, erased and restored continues as
 * before (the next request finds its prompt cached and answers the same text); bad names, missing
 * files and a server without --slot-save-path get clear errors.
 */
class ServeSlotFilesTest {
    @TempDir
    Path dir;

    @Test
    void saveEraseRestore() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 128, s -> s.withSlotSavePath(dir))) {
            String body = "{\"prompt\": \"Once upon a time, there was a little dog named Max\", \"n_predict\": 6, \"temperature\": 0}";
            JsonNode first = TestServer.json(server.post("/completion", body));
            int cached = first.path("tokens_cached").asInt();

            JsonNode saved = TestServer.json(server.post("/slots/0?action=save", "{\"filename\": \"max.bin\"}"));
            assertThat(saved.path("n_saved").asInt()).isEqualTo(cached);
            assertThat(saved.path("n_written").asLong()).isEqualTo(Files.size(dir.resolve("max.bin")));
            JsonNode erased = TestServer.json(server.post("/slots/0?action=erase", ""));
            assertThat(erased.path("n_erased").asInt()).isEqualTo(cached);
            assertThat(server.get("/slots").body()).contains("\"n_cached_tokens\":0");

            JsonNode restored = TestServer.json(server.post("/slots/0?action=restore", "{\"filename\": \"max.bin\"}"));
            assertThat(restored.path("n_restored").asInt()).isEqualTo(cached);
            JsonNode again = TestServer.json(server.post("/completion", body));
            assertThat(again.path("timings").path("cache_n").asInt()).isEqualTo(first.path("tokens_evaluated").asInt() - 1);
            assertThat(again.path("content").asText()).isEqualTo(first.path("content").asText());

            assertError(server.post("/slots/0?action=save", "{\"filename\": \"../x.bin\"}"), 400, "plain file name");
            assertError(server.post("/slots/0?action=restore", "{\"filename\": \"nothing.bin\"}"), 404, "no slot file 'nothing.bin'");
            Files.writeString(dir.resolve("junk.bin"), "junk");
            assertError(server.post("/slots/0?action=restore", "{\"filename\": \"junk.bin\"}"), 400, "not a panllama KV cache file");
            assertError(server.post("/slots/3?action=save", "{\"filename\": \"a.bin\"}"), 404, "no slot 3");
            assertError(server.post("/slots/0?action=fly", "{}"), 400, "not one of save, restore, erase");
            assertError(server.post("/slots/x?action=erase", ""), 400, "not a slot id");
        }
    }

    @Test
    void withoutASavePathSaveIs501() throws Exception {
        try (TestServer server = TestServer.start(TestFiles.stories260K(), 1, 64, s -> s)) {
            assertError(server.post("/slots/0?action=save", "{\"filename\": \"a.bin\"}"), 501, "--slot-save-path");
        }
    }

    private static void assertError(HttpResponse<String> r, int status, String message) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(TestServer.json(r).path("error").path("message").asText()).contains(message);
    }
}
