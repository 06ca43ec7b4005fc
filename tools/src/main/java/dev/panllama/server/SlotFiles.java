package dev.panllama.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * llama-server's slot actions, {@code POST /slots/{id}?action=save|restore|erase}: a slot's KV cache
 * (its tokens, keys and values) to a file under --slot-save-path and back, or dropped. The file name
 * is a plain name inside that folder; the slot is waited for when busy.
 */
final class SlotFiles {
    private static final int MAX_NAME = 255;

    private final SlotPool slots;
    private final Path folder;

    /** @param folder --slot-save-path, or null: save and restore are then refused (501) */
    SlotFiles(SlotPool slots, Path folder) {
        this.slots = slots;
        this.folder = folder;
    }

    /** The request body, read only by the actions that have one. */
    interface Body {
        JsonNode read() throws IOException;
    }

    ObjectNode handle(String idText, String query, Body body) throws IOException {
        int id;
        try {
            id = Integer.parseInt(idText);
        } catch (NumberFormatException e) {
            throw ApiException.invalid("'" + idText + "' is not a slot id", "id_slot");
        }
        if (id < 0 || id >= slots.size()) throw ApiException.notFound("no slot " + id + " (this server has slots 0.." + (slots.size() - 1) + ")");
        String action = action(query);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("id_slot", id);
        if (action.equals("erase")) {
            SlotPool.Slot slot = take(id);
            try {
                out.put("n_erased", slot.session.size());
                slot.session.clear();
            } finally {
                slots.release(slot);
            }
            return out;
        }
        if (folder == null) throw ApiException.notSupported("slot " + action + " needs a folder: start the server with --slot-save-path DIR");
        String name = fileName(body.read());
        Path file = folder.resolve(name);
        out.put("filename", name);
        SlotPool.Slot slot = take(id);
        long t0 = System.nanoTime();
        try {
            if (action.equals("save")) {
                var saved = slot.session.save(file);
                out.put("n_saved", saved.tokens());
                out.put("n_written", saved.bytes());
                out.putObject("timings").put("save_ms", (System.nanoTime() - t0) / 1e6);
            } else {
                int n;
                try {
                    n = slot.session.restore(file);
                } catch (NoSuchFileException e) {
                    throw ApiException.notFound("no slot file '" + name + "' in --slot-save-path");
                } catch (IOException e) {
                    throw ApiException.invalid("cannot restore '" + name + "': " + e.getMessage().replace(file.toString(), name), "filename");
                }
                out.put("n_restored", n);
                out.put("n_read", Files.size(file));
                out.putObject("timings").put("restore_ms", (System.nanoTime() - t0) / 1e6);
            }
        } catch (UnsupportedOperationException e) {
            throw ApiException.notSupported(e.getMessage());
        } finally {
            slots.release(slot);
        }
        return out;
    }

    private SlotPool.Slot take(int id) {
        try {
            return slots.acquire(id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("the server is shutting down");
        }
    }

    private static String action(String query) {
        String action = null;
        if (query != null) {
            for (String kv : query.split("&")) if (kv.startsWith("action=")) action = kv.substring(7);
        }
        if (action == null) throw ApiException.invalid("say what to do: ?action=save, restore or erase", "action");
        if (!action.equals("save") && !action.equals("restore") && !action.equals("erase")) {
            throw ApiException.invalid("action '" + action + "' is not one of save, restore, erase", "action");
        }
        return action;
    }

    /** A plain file name: no folders, no leading dot, no control characters (llama.cpp's fs_validate_filename, in spirit). */
    private static String fileName(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.invalid("the request body must be a JSON object with a 'filename'", "filename");
        String name = new RequestFields(body).string("filename");
        if (name == null || name.isEmpty()) throw ApiException.invalid("'filename' is required", "filename");
        boolean bad = name.length() > MAX_NAME || name.startsWith(".") || name.contains("/") || name.contains("\\")
                || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == ':');
        if (bad) throw ApiException.invalid("'filename' must be a plain file name (no folders, no leading dot, at most " + MAX_NAME + " characters)", "filename");
        return name;
    }
}
