package dev.panllama.server;

import dev.panllama.generate.CachedSession;
import dev.panllama.generate.Completion;
import dev.panllama.generate.CompletionSettings;
import dev.panllama.model.BatchDecoder;
import dev.panllama.model.Model;
import dev.panllama.sampling.TokenLogprob;
import dev.panllama.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The server's continuous batching (llama-server's update_slots): one thread evaluates every running
 * completion. Each step is one pass over the next token of every generating completion — every weight
 * is read once for all of them — joined by short pending prompts, then one micro-batch of the oldest
 * longer prompt; sampling, stop strings and UTF-8 stay per completion. Request threads submit a
 * {@link Job} and read its text as events.
 *
 * <p>Why a pass is either under 16 rows or one prompt's micro-batch alone: the CPU's matrix products take
 * a different path from 16 rows on (decoded floats instead of integer dots), so a generated token in a
 * pass of 16 rows or more would not get the logits it gets alone. So a prompt joins the generation pass
 * only whole and only while the pass stays under 16 rows; a longer one is evaluated in the same
 * micro-batches as alone, in passes of its own. Then up to 15 generating completions get bit-identical
 * logits (hence the same greedy text) whatever runs beside them. A long prompt's pass is compute-bound
 * anyway: sharing it would save one read of the weights per micro-batch.
 */
final class DecodeLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DecodeLoop.class.getName());

    /**
     * Passes of fewer rows than this take the CPU's per-row matrix products (CpuKernels'
     * BATCH_PATH_MIN_TOKENS), which give each row what it gets alone: generated tokens and short prompts
     * may share such a pass without changing anyone's logits.
     */
    static final int PER_ROW_PASS = 16;

    /** What a job tells its request thread. */
    sealed interface Event {
        record Text(String text, List<TokenLogprob> logprobs) implements Event {}

        record Done(Completion.Result result) implements Event {}

        record Failed(Throwable error) implements Event {}
    }

    /** One completion in the loop. Closing it cancels it and waits until the loop has let go of its session. */
    static final class Job implements AutoCloseable {
        private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private volatile boolean cancelled;
        private boolean ended;
        // Owned by the loop's thread once submitted:
        private Completion completion;
        private int[] prompt;          // the prompt tokens still to evaluate, from promptAt
        private int promptAt;
        private int next = Completion.DONE;

        /** Asks the loop to end the completion at its next step. */
        void cancel() { cancelled = true; }

        /**
         * Waits for the end, passing each piece of text (with its tokens' log probabilities, when asked
         * for) to {@code onText} (false: cancel, e.g. the client went away). Returns how the completion
         * ended; a failure of its evaluation is thrown.
         */
        Completion.Result await(Completion.Listener onText) {
            while (true) {
                Event e = take();
                switch (e) {
                    case Event.Text t -> {
                        if (!cancelled && !onText.onText(t.text(), t.logprobs())) cancel();
                    }
                    case Event.Done d -> {
                        ended = true;
                        return d.result();
                    }
                    case Event.Failed f -> {
                        ended = true;
                        if (f.error() instanceof RuntimeException r) throw r;
                        if (f.error() instanceof Error r) throw r;
                        throw new IllegalStateException(f.error());
                    }
                }
            }
        }

        private Event take() {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return events.take();
                    } catch (InterruptedException e) {
                        interrupted = true;      // the session is the loop's until it says so: wait on
                        cancel();
                    }
                }
            } finally {
                if (interrupted) Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            if (ended) return;
            cancel();
            while (!ended) {
                Event e = take();
                ended = e instanceof Event.Done || e instanceof Event.Failed;
            }
        }
    }

    private final BatchDecoder decoder;
    private final ServerMetrics metrics;
    private final BooleanSupplier closing;
    private final BlockingQueue<Job> incoming = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopped;

    /** @param closing true once the server stops: every job is then cancelled */
    DecodeLoop(Model model, ServerMetrics metrics, BooleanSupplier closing) {
        this.decoder = model.newBatchDecoder();
        this.metrics = metrics;
        this.closing = closing;
        this.thread = Thread.ofPlatform().name("panllama-decode").daemon().start(this::loop);
    }

    /** True once the server stops (jobs are cancelled then). */
    boolean closing() { return closing.getAsBoolean(); }

    /**
     * Starts a completion of {@code prompt} on {@code session} (a slot the caller holds until the job has
     * ended). The cached prefix is kept here, on the caller's thread.
     */
    Job submit(CachedSession session, Tokenizer tokenizer, int[] prompt, CompletionSettings settings) {
        if (stopped) throw ApiException.unavailable("the server is shutting down");
        Job job = new Job();
        job.completion = new Completion(session, tokenizer, prompt, settings, new Completion.Listener() {
            @Override
            public boolean onText(String text) {
                return onText(text, List.of());
            }

            @Override
            public boolean onText(String text, List<TokenLogprob> logprobs) {
                job.events.add(new Event.Text(text, logprobs));
                return !job.cancelled;
            }
        });
        job.prompt = job.completion.pendingPrompt();
        incoming.add(job);
        return job;
    }

    private void loop() {
        List<Job> active = new ArrayList<>();
        while (!stopped) {
            try {
                if (active.isEmpty()) {
                    Job first = incoming.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    active.add(first);
                }
                incoming.drainTo(active);
                boolean cancelAll = closing.getAsBoolean();
                for (Job j : active) if (cancelAll || j.cancelled) end(j, new Event.Done(j.completion.cancel()));
                active.removeIf(j -> j.completion.done());
                generate(active);
                active.removeIf(j -> j.completion.done());
                promptChunk(active);
                active.removeIf(j -> j.completion.done());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                // Only the loop's own bookkeeping gets here (passes fail their jobs): keep serving the rest.
                LOG.log(System.Logger.Level.ERROR, "decode loop: " + t, t);
            }
        }
        for (Job j : active) end(j, new Event.Failed(ApiException.unavailable("the server is shutting down")));
        for (Job j; (j = incoming.poll()) != null; ) end(j, new Event.Failed(ApiException.unavailable("the server is shutting down")));
    }

    /**
     * One pass (more if they exceed -ub) over the next token of every generating job, joined, while the
     * pass stays under {@link #PER_ROW_PASS} rows, by the whole remaining prompts that fit (oldest first).
     */
    private void generate(List<Job> active) {
        List<Job> jobs = new ArrayList<>(active.stream().filter(j -> j.next != Completion.DONE).toList());
        int rows = jobs.size();
        for (Job j : active) {
            int left = j.prompt == null ? 0 : j.prompt.length - j.promptAt;
            if (left > 0 && rows + left < PER_ROW_PASS) {
                jobs.add(j);
                rows += left;
            }
        }
        for (int from = 0; from < jobs.size(); ) {
            List<Job> group = new ArrayList<>();
            List<BatchDecoder.Part> parts = new ArrayList<>();
            int n = 0;
            for (; from < jobs.size(); from++) {
                Job j = jobs.get(from);
                int[] tokens = j.prompt != null ? Arrays.copyOfRange(j.prompt, j.promptAt, j.prompt.length) : new int[]{j.next};
                if (n + tokens.length > decoder.maxTokens() && !group.isEmpty()) break;
                group.add(j);
                parts.add(new BatchDecoder.Part(j.completion.session().session(), tokens, true));
                n += tokens.length;
            }
            List<float[]> logits = decode(group, parts);
            if (logits == null) continue;
            for (int i = 0; i < group.size(); i++) {
                Job j = group.get(i);
                j.completion.session().evaluated(parts.get(i).tokens());
                j.prompt = null;
                sample(j, logits.get(i));
            }
        }
    }

    /** The next micro-batch of the oldest job still evaluating a longer prompt, in a pass of its own. */
    private void promptChunk(List<Job> active) {
        Job j = active.stream().filter(x -> x.prompt != null).findFirst().orElse(null);
        if (j == null) return;
        int n = Math.min(decoder.maxTokens(), j.prompt.length - j.promptAt);
        int[] chunk = Arrays.copyOfRange(j.prompt, j.promptAt, j.promptAt + n);
        boolean last = j.promptAt + n == j.prompt.length;
        List<float[]> logits = decode(List.of(j), List.of(new BatchDecoder.Part(j.completion.session().session(), chunk, last)));
        if (logits == null) return;
        j.completion.session().evaluated(chunk);
        j.promptAt += n;
        if (last) {
            j.prompt = null;
            sample(j, logits.getFirst());
        }
    }

    /** Runs a pass; on failure its jobs end with the error (their sessions did not advance) and null is returned. */
    private List<float[]> decode(List<Job> jobs, List<BatchDecoder.Part> parts) {
        try {
            List<float[]> logits = decoder.decode(parts);
            metrics.decoded(parts.size());
            return logits;
        } catch (Throwable t) {
            for (Job j : jobs) {
                j.completion.cancel();
                end(j, new Event.Failed(t));
            }
            return null;
        }
    }

    private void sample(Job j, float[] logits) {
        try {
            j.next = j.completion.next(logits);
        } catch (Throwable t) {
            j.completion.cancel();
            end(j, new Event.Failed(t));
            return;
        }
        if (j.next == Completion.DONE) end(j, new Event.Done(j.completion.result()));
    }

    private static void end(Job j, Event last) {
        j.next = Completion.DONE;
        j.prompt = null;
        j.events.add(last);
    }

    /** Stops the loop; jobs still in it end with "shutting down". */
    @Override
    public void close() {
        stopped = true;        // seen within 200 ms, or after the pass in progress (not interrupted: the workers wait in it)
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        decoder.close();
    }
}
