package dev.panllama.server;

import dev.panllama.generate.CachedSession;
import dev.panllama.model.Model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's N slots (llama.cpp's {@code --parallel}): each a session with its own KV cache over the
 * model's shared weights, serving one request at a time. A request waits for a free slot (first come,
 * first served) and takes the free one whose cache shares the longest prefix with its prompt, so that
 * a chat's next turn finds its history already evaluated; ties go to the slot idle longest.
 */
final class SlotPool implements AutoCloseable {
    /** One slot: its cached session, and when it was last released (for ties). */
    static final class Slot {
        final int id;
        final CachedSession session;
        private boolean busy;
        private long releasedAt;

        Slot(int id, CachedSession session) {
            this.id = id;
            this.session = session;
        }
    }

    private final List<Slot> slots = new ArrayList<>();
    private final Semaphore free;
    private final AtomicInteger waiting = new AtomicInteger();
    private long releases;

    SlotPool(Model model, int count, int contextPerSlot) {
        if (count < 1) throw new IllegalArgumentException("--parallel must be at least 1, not " + count);
        try {
            for (int i = 0; i < count; i++) slots.add(new Slot(i, new CachedSession(model.newSession(contextPerSlot))));
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
        this.free = new Semaphore(count, true);
    }

    int size() { return slots.size(); }

    int contextPerSlot() { return slots.getFirst().session.contextLength(); }

    /** Requests waiting for a slot now. */
    int waiting() { return waiting.get(); }

    synchronized int busy() {
        return (int) slots.stream().filter(s -> s.busy).count();
    }

    /** Tokens held in all slots' KV caches. */
    synchronized long cachedTokens() {
        return slots.stream().mapToLong(s -> s.session.size()).sum();
    }

    /** Empties every slot's cache (none may be busy). */
    synchronized void clearAll() {
        for (Slot s : slots) {
            if (s.busy) throw new IllegalStateException("slot " + s.id + " is busy");
            s.session.clear();
        }
    }

    /** What llama-server's {@code GET /slots} shows of a slot. */
    record SlotView(int id, int contextLength, boolean processing, int cachedTokens) {}

    synchronized List<SlotView> views() {
        return slots.stream().map(s -> new SlotView(s.id, s.session.contextLength(), s.busy, s.session.size())).toList();
    }

    /** Waits for a free slot and takes the best one for {@code prompt}. */
    Slot acquire(int[] prompt) throws InterruptedException {
        waiting.incrementAndGet();
        try {
            free.acquire();
        } finally {
            waiting.decrementAndGet();
        }
        synchronized (this) {
            Slot best = null;
            int bestPrefix = -1;
            for (Slot s : slots) {
                if (s.busy) continue;
                int prefix = s.session.commonPrefix(prompt);
                if (prefix > bestPrefix || (prefix == bestPrefix && s.releasedAt < best.releasedAt)) {
                    best = s;
                    bestPrefix = prefix;
                }
            }
            if (best == null) throw new IllegalStateException("a permit without a free slot");
            best.busy = true;
            return best;
        }
    }

    /** Waits until slot {@code id} is free and takes it (for the slot actions: save, restore, erase). */
    Slot acquire(int id) throws InterruptedException {
        Slot s = slots.get(id);
        waiting.incrementAndGet();
        try {
            synchronized (this) {
                // A permit taken by a request that has not chosen its slot yet leaves this one free: wait for the next release.
                while (s.busy || !free.tryAcquire()) wait(100);
                s.busy = true;
                return s;
            }
        } finally {
            waiting.decrementAndGet();
        }
    }

    void release(Slot slot) {
        synchronized (this) {
            if (!slot.busy) throw new IllegalStateException("slot " + slot.id + " released twice");
            slot.busy = false;
            slot.releasedAt = ++releases;
            notifyAll();
        }
        free.release();
    }

    @Override
    public synchronized void close() {
        for (Slot s : slots) s.session.close();
    }
}
