package dev.panllama.convert;

import dev.panllama.safetensors.SafetensorsCheckpoint;
import dev.panllama.safetensors.SafetensorsDType;
import dev.panllama.safetensors.SafetensorsTensor;
import dev.panllama.tensor.GgmlType;
import dev.panllama.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;

/**
 * The tensors of a Hugging Face checkpoint as llama.cpp's converter emits them: renamed, llama's q/k
 * rows permuted, experts stacked into one tensor per layer and projection, FP8 weights paired with
 * their scales. Nothing is read here; each {@link SourceTensor} decodes its rows when asked.
 */
final class HfTensors {
    private HfTensors() {}

    static List<SourceTensor> of(SafetensorsCheckpoint ckpt, HfConfig config) {
        HfArchitecture arch = config.architecture();
        Map<String, SafetensorsTensor> scales = new HashMap<>();
        for (SafetensorsTensor t : ckpt.tensors().values()) {
            if (!HfTensorNames.isScale(t.name())) continue;
            String weight = HfTensorNames.scaledWeight(t.name());
            if (!ckpt.has(weight)) throw new IllegalArgumentException("scale tensor '" + t.name() + "' has no weight '" + weight + "'");
            if (scales.put(weight, t) != null) throw new IllegalArgumentException("weight '" + weight + "' has two scale tensors");
        }
        List<SourceTensor> out = new ArrayList<>();
        float[] ropeFactors = config.llama3RopeFactors();
        if (ropeFactors != null) out.add(vector("rope_freqs.weight", ropeFactors));

        Set<String> stacked = new HashSet<>();
        for (String name : ckpt.names()) {
            if (HfTensorNames.isScale(name) || HfTensorNames.isDropped(name)) continue;
            HfTensorNames.Target target = HfTensorNames.map(name, arch);
            if (target.expert() >= 0) {
                if (stacked.add(target.name())) out.add(experts(ckpt, config, scales, name, target));
                continue;
            }
            SafetensorsTensor t = ckpt.tensor(name);
            SafetensorsTensor s = scales.get(name);
            LongUnaryOperator perm = target.qkHeads() == null ? null
                    : headPermutation(target.name(), t.dim(0), target.qkHeads().equals("q") ? config.heads() : config.kvHeads());
            out.add(build(target.name(), List.of(t), s == null ? null : List.of(s), perm, config));
        }
        return out;
    }

    /** All experts of one layer and projection, named as the first one met; fails when one is missing. */
    private static SourceTensor experts(SafetensorsCheckpoint ckpt, HfConfig config, Map<String, SafetensorsTensor> scales,
                                        String first, HfTensorNames.Target target) {
        int n = config.experts();
        if (n <= 0) throw new IllegalArgumentException(config.file() + ": expert tensors but no num_experts");
        String pattern = first.replaceFirst("\\.experts\\.\\d+\\.", ".experts.%d.");
        List<SafetensorsTensor> parts = new ArrayList<>(n);
        List<SafetensorsTensor> partScales = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            String name = String.format(pattern, e);
            parts.add(ckpt.find(name).orElseThrow(() -> new IllegalArgumentException("expert tensor '" + name + "' is missing")));
            partScales.add(scales.get(name));
        }
        boolean anyScale = partScales.stream().anyMatch(java.util.Objects::nonNull);
        if (anyScale && partScales.contains(null)) throw new IllegalArgumentException(target.name() + ": some experts have scales, some not");
        return build(target.name(), parts, anyScale ? partScales : null, null, config);
    }

    private static SourceTensor build(String name, List<SafetensorsTensor> parts, List<SafetensorsTensor> scaleParts,
                                      LongUnaryOperator perm, HfConfig config) {
        SafetensorsTensor first = parts.getFirst();
        for (SafetensorsTensor p : parts) {
            if (p.dtype() != first.dtype() || !Arrays.equals(p.shape(), first.shape())) {
                throw new IllegalArgumentException(name + ": '" + p.name() + "' is " + p + ", unlike '" + first.name() + "' (" + first + ")");
            }
        }
        SafetensorsDType dtype = first.dtype();
        if (!dtype.isFloat()) throw new IllegalArgumentException("tensor '" + first.name() + "' has dtype " + dtype + "; only float tensors convert");
        if (first.rank() > 3 || (parts.size() > 1 && first.rank() > 2)) {
            throw new IllegalArgumentException("tensor '" + first.name() + "' has " + first.rank() + " dimensions");
        }
        long[] shape = ggmlShape(first, parts.size());
        ScaleGrid grid = null;
        if (dtype.isFp8()) {
            if (first.rank() != 2) throw new IllegalArgumentException("FP8 tensor '" + first.name() + "' is not a matrix");
            grid = scaleParts == null ? ScaleGrid.unit(parts.size(), first.dim(0), first.dim(1)) : grid(name, first, scaleParts, config.fp8());
        } else if (scaleParts != null) {
            throw new IllegalArgumentException("tensor '" + first.name() + "' has a scale but dtype " + dtype + ", not FP8");
        }
        HfRows rows = new HfRows(parts, grid, perm);
        Fp8Weight fp8 = dtype == SafetensorsDType.F8_E4M3
                ? new Fp8Weight(rows::copyRawRow, grid, perm != null ? perm : LongUnaryOperator.identity()) : null;
        GgmlType lossless = switch (dtype) {
            case F16 -> GgmlType.F16;
            case F32, F64 -> GgmlType.F32;
            default -> GgmlType.BF16;
        };
        Tensor asIs = null;
        if (parts.size() == 1 && perm == null && (dtype == SafetensorsDType.F32 || dtype == SafetensorsDType.F16 || dtype == SafetensorsDType.BF16)) {
            asIs = new Tensor(name, lossless, shape, first.data());
        }
        return new SourceTensor(name, shape, rows, lossless, asIs, fp8, dtype.isFp8());
    }

    /** GGUF order is PyTorch's reversed; stacked experts add the outermost dimension; a scalar is [1]. */
    private static long[] ggmlShape(SafetensorsTensor t, int parts) {
        int rank = Math.max(t.rank(), 1);
        long[] s = new long[rank + (parts > 1 ? 1 : 0)];
        for (int i = 0; i < t.rank(); i++) s[i] = t.dim(t.rank() - 1 - i);
        if (t.rank() == 0) s[0] = 1;
        if (parts > 1) s[rank] = parts;
        return s;
    }

    /** The scale grid of a weight (one part per expert), with tiles resolved from the scale's shape. */
    private static ScaleGrid grid(String name, SafetensorsTensor weight, List<SafetensorsTensor> scaleParts, Fp8Config fp8) {
        long out = weight.dim(0);
        long in = weight.dim(1);
        SafetensorsTensor s = scaleParts.getFirst();
        long[] dims = switch (s.rank()) {
            case 0 -> new long[]{1, 1};
            case 1 -> new long[]{s.dim(0), 1};
            case 2 -> new long[]{s.dim(0), s.dim(1)};
            default -> throw new IllegalArgumentException("scale '" + s.name() + "' has " + s.rank() + " dimensions");
        };
        int tileRows = ScaleGrid.tile(out, dims[0], fp8 != null ? fp8.blockRows() : 0, "scale '" + s.name() + "' rows");
        int tileCols = ScaleGrid.tile(in, dims[1], fp8 != null ? fp8.blockCols() : 0, "scale '" + s.name() + "' columns");
        long perPart = dims[0] * dims[1];
        float[] values = new float[Math.toIntExact(perPart * scaleParts.size())];
        for (int p = 0; p < scaleParts.size(); p++) {
            SafetensorsTensor sp = scaleParts.get(p);
            if (!Arrays.equals(sp.shape(), s.shape()) || !sp.dtype().isFloat()) {
                throw new IllegalArgumentException(name + ": scale '" + sp.name() + "' is " + sp + ", unlike '" + s.name() + "'");
            }
            sp.decode(0, values, (int) (p * perPart), (int) perPart);
        }
        return new ScaleGrid(values, scaleParts.size(), out, in, tileRows, tileCols);
    }

    /**
     * llama.cpp's LlamaModel.permute: Hugging Face orders each head's rows as two halves (rotate-half
     * RoPE); llama.cpp interleaves them (adjacent-pair RoPE). GGUF row h*d + 2i + j comes from Hugging
     * Face row h*d + j*d/2 + i, for head h of size d.
     */
    static LongUnaryOperator headPermutation(String name, long rows, int heads) {
        if (heads <= 0 || rows % (2L * heads) != 0) {
            throw new IllegalArgumentException(name + ": " + rows + " rows do not split into " + heads + " heads of an even size");
        }
        long d = rows / heads;
        return r -> {
            long h = r / d;
            long w = r % d;
            return h * d + (w % 2) * (d / 2) + w / 2;
        };
    }

    private static SourceTensor vector(String name, float[] values) {
        FloatRows rows = new FloatRows() {
            @Override public int rowLength() { return values.length; }
            @Override public long rows() { return 1; }
            @Override public void read(long r, float[] dst) { System.arraycopy(values, 0, dst, 0, values.length); }
        };
        return new SourceTensor(name, new long[]{values.length}, rows, GgmlType.F32, null, null, false);
    }
}
