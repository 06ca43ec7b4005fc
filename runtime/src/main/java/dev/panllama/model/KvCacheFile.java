package dev.panllama.model;

import dev.panllama.kv.KvCache;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A session's KV cache on disk and back (llama-server's slot save/restore, llama_state_seq_save_file):
 * the tokens it holds, then each layer's key and value rows for their positions, as stored (no
 * re-encoding). A header names the cache's shape and types, so a file restores only into a session of
 * the same model and cache types. Caches a device holds in its own memory cannot be saved.
 */
public final class KvCacheFile {
    private static final int MAGIC = 0x504c4b56;      // "PLKV"
    private static final int VERSION = 1;

    private KvCacheFile() {}

    /** What a save or a restore moved. */
    public record Transfer(int tokens, long bytes) {}

    /** Writes the session's first {@code tokens.length} positions (the tokens they hold) to {@code file}, atomically. */
    public static Transfer save(Session session, int[] tokens, Path file) throws IOException {
        KvCache c = session.cache();
        if (tokens.length != session.position()) {
            throw new IllegalArgumentException(tokens.length + " tokens given for a session at position " + session.position());
        }
        requireHost(c);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        long bytes;
        try (OutputStream os = Files.newOutputStream(tmp); DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(os))) {
            writeHeader(out, c);
            out.writeInt(tokens.length);
            for (int t : tokens) out.writeInt(t);
            out.flush();
            WritableByteChannel ch = Channels.newChannel(os);
            for (int l = 0; l < c.layers(); l++) {
                write(ch, c.keys(), c.keyOffset(l, 0), rowsBytes(c.keyType().rowBytes(c.keyRowElements()), tokens.length));
                if (!c.isLatent()) write(ch, c.values(), c.valueOffset(l, 0), rowsBytes(c.valueType().rowBytes(c.valueRowElements()), tokens.length));
            }
        }
        bytes = Files.size(tmp);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Transfer(tokens.length, bytes);
    }

    /**
     * Fills the session's cache from {@code file} and sets its position after the restored tokens, which
     * are returned. The session is cleared first; on a bad file it stays cleared.
     */
    public static int[] restore(Session session, Path file) throws IOException {
        KvCache c = session.cache();
        requireHost(c);
        session.clear();
        try (InputStream is = Files.newInputStream(file); DataInputStream in = new DataInputStream(is)) {
            readHeader(in, c, file);
            int n = in.readInt();
            if (n < 0 || n > c.contextLength()) {
                throw new IOException(file + ": holds " + n + " tokens; this slot's context is " + c.contextLength());
            }
            ReadableByteChannel ch = Channels.newChannel(is);
            ByteBuffer ids = ByteBuffer.allocate(n * Integer.BYTES);      // big-endian, as DataOutputStream wrote them
            read(ch, MemorySegment.ofBuffer(ids), 0, ids.capacity(), file);
            int[] tokens = new int[n];
            ids.asIntBuffer().get(tokens);
            for (int l = 0; l < c.layers(); l++) {
                read(ch, c.keys(), c.keyOffset(l, 0), rowsBytes(c.keyType().rowBytes(c.keyRowElements()), n), file);
                if (!c.isLatent()) read(ch, c.values(), c.valueOffset(l, 0), rowsBytes(c.valueType().rowBytes(c.valueRowElements()), n), file);
            }
            if (in.read() != -1) throw new IOException(file + ": has bytes past its cache rows");
            session.restore(n);
            return tokens;
        } catch (EOFException e) {
            throw new IOException(file + ": ends early (truncated)", e);
        }
    }

    private static void requireHost(KvCache c) {
        for (int l = 0; l < c.layers(); l++) {
            if (!c.onHost(l)) throw new UnsupportedOperationException("layer " + l + "'s KV cache lives on its device: it cannot be saved or restored");
        }
    }

    private static void writeHeader(DataOutputStream out, KvCache c) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(c.layers());
        out.writeBoolean(c.isLatent());
        out.writeUTF(c.keyType().name());
        out.writeUTF(c.valueType().name());
        out.writeInt(c.keyRowElements());
        out.writeInt(c.valueRowElements());
    }

    private static void readHeader(DataInputStream in, KvCache c, Path file) throws IOException {
        if (in.readInt() != MAGIC) throw new IOException(file + ": not a panllama KV cache file");
        int version = in.readInt();
        if (version != VERSION) throw new IOException(file + ": KV cache file version " + version + ", this build reads " + VERSION);
        String shape = in.readInt() + " layers" + (in.readBoolean() ? " latent" : "") + " K " + in.readUTF() + " V " + in.readUTF()
                + " rows " + in.readInt() + "/" + in.readInt();
        String ours = c.layers() + " layers" + (c.isLatent() ? " latent" : "") + " K " + c.keyType().name() + " V " + c.valueType().name()
                + " rows " + c.keyRowElements() + "/" + c.valueRowElements();
        if (!shape.equals(ours)) throw new IOException(file + ": a cache of " + shape + ", not this model's " + ours);
    }

    private static long rowsBytes(long rowBytes, int rows) {
        return Math.multiplyExact(rowBytes, (long) rows);
    }

    private static void write(WritableByteChannel ch, MemorySegment seg, long off, long len) throws IOException {
        ByteBuffer b = seg.asSlice(off, len).asByteBuffer();
        while (b.hasRemaining()) ch.write(b);
    }

    private static void read(ReadableByteChannel ch, MemorySegment seg, long off, long len, Path file) throws IOException {
        ByteBuffer b = seg.asSlice(off, len).asByteBuffer();
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException(file + ": ends early (truncated)");
        }
    }
}
