package dev.panllama.scheduler;

import dev.panllama.backend.DeviceSet;
import dev.panllama.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which device holds each weight, decided once at load with llama.cpp's precedence:
 * <ol>
 *   <li>the user's {@code -ot} rules, in command-line order, first match wins;</li>
 *   <li>then the expert rules of {@code --cpu-moe} / {@code --n-cpu-moe}, appended after the user's;</li>
 *   <li>then {@code -ngl N}: the last N repeating layers on the offload device(s), the output layer too
 *   when N exceeds the layer count; token_embd always on the CPU; the rest on the CPU.</li>
 * </ol>
 */
public final class Placement {
    /** llama.cpp's LLM_FFN_EXPS_REGEX (common.h), with the merged gate_up form. */
    static final String EXPERTS_REGEX = "\\.ffn_(up|down|gate|gate_up)_exps";
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** One weight's placement and the reason for it (what {@code --print-placement} shows). */
    public record Entry(String tensor, String type, long[] shape, long bytes, String device, String reason) {}

    private final Map<String, Entry> entries;
    private final List<String> notes;
    private final boolean opOffload, kvOffload;

    private Placement(Map<String, Entry> entries, List<String> notes, boolean opOffload, boolean kvOffload) {
        this.opOffload = opOffload;
        this.kvOffload = kvOffload;
        this.entries = entries;
        this.notes = notes;
    }

    public static Placement plan(List<Tensor> tensors, int layers, PlacementSettings s, DeviceSet devices) {
        List<String> notes = new ArrayList<>();
        List<Rule> rules = new ArrayList<>();
        for (OverrideRule r : OverrideRule.parse(s.overrides())) {
            if (!devices.contains(r.buffer())) {
                throw new IllegalArgumentException("-ot " + r + ": unknown buffer type '" + r.buffer() + "' (available: "
                        + String.join(", ", devices.names()) + ")");
            }
            rules.add(new Rule(r, "-ot " + r));
        }
        if (s.cpuMoe()) {
            rules.add(new Rule(new OverrideRule(Pattern.compile(EXPERTS_REGEX), DeviceSet.CPU), "--cpu-moe"));
        }
        for (int i = 0; i < s.nCpuMoe(); i++) {
            rules.add(new Rule(new OverrideRule(Pattern.compile("blk\\." + i + EXPERTS_REGEX), DeviceSet.CPU), "--n-cpu-moe " + s.nCpuMoe()));
        }

        List<String> offload = s.offloadTo().isEmpty()
                ? devices.accelerators().stream().map(d -> d.name()).toList() : s.offloadTo();
        for (String d : offload) devices.get(d);     // unknown names fail here, listing the available ones
        int ngl = s.gpuLayers();
        if (ngl > 0 && offload.isEmpty()) {
            notes.add("no offload device (no GPU found and no -dev given): -ngl " + ngl + " is ignored");
            ngl = 0;
        }
        int offloadedLayers = Math.min(ngl, layers);
        int firstOffloaded = layers - offloadedLayers;

        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            String name = t.name();
            String device = null;
            String reason = null;
            for (Rule r : rules) {
                if (r.rule.matches(name)) {
                    device = r.rule.buffer();
                    reason = r.source;
                    break;
                }
            }
            if (device == null) {
                Matcher m = LAYER.matcher(name);
                if (m.find()) {
                    int il = Integer.parseInt(m.group(1));
                    if (il >= firstOffloaded && offloadedLayers > 0) {
                        device = offload.get((int) ((long) (il - firstOffloaded) * offload.size() / offloadedLayers));
                        reason = "-ngl " + s.gpuLayers() + " (layer " + il + ")";
                    } else {
                        device = DeviceSet.CPU;
                        reason = offloadedLayers > 0 ? "layer " + il + " below the offloaded ones" : "default";
                    }
                } else if (name.startsWith("token_embd.")) {
                    device = DeviceSet.CPU;
                    reason = "token_embd is always on the CPU";
                } else if (name.startsWith("output") && ngl > layers) {
                    device = offload.get(offload.size() - 1);
                    reason = "-ngl " + s.gpuLayers() + " > " + layers + " layers: output layer offloaded";
                } else {
                    device = DeviceSet.CPU;
                    reason = "default";
                }
            }
            entries.put(name, new Entry(name, t.type().name(), t.shape(), t.byteSize(), device, reason));
        }
        return new Placement(entries, notes, s.opOffload(), s.kvOffload());
    }

    private record Rule(OverrideRule rule, String source) {}

    /** The device name of a weight (CPU for names the plan never saw, e.g. tensors made at run time). */
    public String deviceOf(String tensorName) {
        Entry e = entries.get(tensorName);
        return e == null ? DeviceSet.CPU : e.device();
    }

    public List<Entry> entries() { return List.copyOf(entries.values()); }

    /** Whether an accelerator may run large batches' matmuls of host weights (see {@link PlacementSettings#opOffload}). */
    public boolean opOffload() { return opOffload; }

    /** Whether offloaded layers keep their KV cache and attention on their device (see {@link PlacementSettings#kvOffload}). */
    public boolean kvOffload() { return kvOffload; }

    /** Warnings the plan produced (e.g. -ngl without an offload device). */
    public List<String> notes() { return List.copyOf(notes); }

    /** Bytes of weights per device, in first-use order. */
    public Map<String, Long> bytesPerDevice() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Entry e : entries.values()) out.merge(e.device(), e.bytes(), Long::sum);
        return out;
    }

    /** Whether any weight is off the CPU device. */
    public boolean isSplit() {
        return entries.values().stream().anyMatch(e -> !e.device().equals(DeviceSet.CPU));
    }

    /** The table {@code --print-placement} prints: tensor, type, shape, size, buffer, rule; then totals per buffer. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-36s %-8s %-18s %12s  %-8s %s%n", "tensor", "type", "shape", "bytes", "buffer", "why"));
        for (Entry e : entries.values()) {
            sb.append(String.format(Locale.ROOT, "%-36s %-8s %-18s %,12d  %-8s %s%n", e.tensor(), e.type(),
                    Arrays.toString(e.shape()), e.bytes(), e.device(), e.reason()));
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Entry e : entries.values()) counts.merge(e.device(), 1, Integer::sum);
        sb.append("totals:");
        bytesPerDevice().forEach((d, b) -> sb.append(String.format(Locale.ROOT, "  %s %.2f MiB (%d tensors)", d, b / 1048576.0, counts.get(d))));
        sb.append(System.lineSeparator());
        for (String n : notes) sb.append("note: ").append(n).append(System.lineSeparator());
        return sb.toString();
    }
}
