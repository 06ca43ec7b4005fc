// cuda_emulation.h: just enough of CUDA to run gpu/src/main/cuda/*.cu on the CPU.
//
// Why: this project's machines and CI have no GPU, yet the kernels must be checked against the Java
// reference (codecs, Kernels, AttentionKernel). KernelEmulationTest compiles kernel_emulator.cpp, which
// includes this header and then the .cu files exactly as shipped, with g++ and
// -DPANLLAMA_HOST_EMULATION (the .cu files' one use of it: the half conversions come from here instead
// of inline PTX).
//
// What is emulated
// - Every CUDA thread of a block is a fiber (ucontext) on one OS thread. A block runs to completion
//   before the next starts; threadIdx / blockIdx / blockDim / gridDim are globals that the scheduler
//   sets before switching to a fiber.
// - __syncthreads: a fiber waits until every thread of its block that has not exited waits too (exited
//   threads count as arrived, as on the hardware).
// - Warp shuffles (__shfl_sync, __shfl_xor_sync, __shfl_down_sync, __shfl_up_sync) and __syncwarp: the
//   lanes of `mask` meet at a warp barrier and exchange values through a per-warp slot array. A lane
//   in the mask that has exited, or lanes that wait at different barriers, is an error.
// - __shared__ is `static`: one copy per kernel, shared by the block that runs (blocks never overlap).
// - The float intrinsics the kernels use (__fmul_rn, __uint_as_float, __byte_perm, ...) and the half
//   conversions, bit for bit (round to nearest even, as cvt.rn.f16.f32).
// Fibers run until they block, in ascending thread order and then descending on alternate rounds, so a
// missing __syncthreads or __syncwarp shows up as a read of data not yet written (deterministically;
// OS threads on a 2-core machine would rarely expose it). g++ -fsanitize=alignment turns a load or
// store through a misaligned pointer into an error, as the GPU's "misaligned address" fault would.
//
// What is not: timing, occupancy, real warp scheduling and lockstep, memory coalescing and caches,
// device math library accuracy (expf, tanhf here are glibc's), FMA contraction (compile with
// -ffp-contract=off; nvcc contracts where the kernels do not forbid it with __fmul_rn and friends),
// atomics, the driver and PTX JIT. Shared memory keeps its contents from the previous block instead of
// being undefined.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

#include <sys/mman.h>
#include <ucontext.h>

// ---- CUDA keywords -------------------------------------------------------------------------------

#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

// The calling fiber's indices and the launch's shape (set by the scheduler).
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

// ---- intrinsics ----------------------------------------------------------------------------------

template <class To, class From>
inline To panllama_emu_bits(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit cast of different sizes");
    To t;
    std::memcpy(&t, &v, sizeof t);
    return t;
}

inline float __uint_as_float(unsigned u) { return panllama_emu_bits<float>(u); }
inline float __int_as_float(int i) { return panllama_emu_bits<float>(i); }
inline unsigned __float_as_uint(float f) { return panllama_emu_bits<unsigned>(f); }
inline int __float_as_int(float f) { return panllama_emu_bits<int>(f); }

// Round-to-nearest float arithmetic that nvcc never fuses into an FMA. Here -ffp-contract=off keeps
// every float operation apart, so they are the plain operators.
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }

// PTX prmt (default mode): byte i of the result is byte (s >> 4i) & 7 of the 8-byte value {y, x};
// when bit 3 of that selector nibble is set, the chosen byte's sign bit is replicated instead.
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
    const uint64_t v = ((uint64_t) y << 32) | x;
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        const unsigned sel = (s >> (4 * i)) & 15u;
        unsigned b = (unsigned) (v >> (8 * (sel & 7u))) & 0xFFu;
        if (sel & 8u) b = (b & 0x80u) ? 0xFFu : 0u;
        r |= b << (8 * i);
    }
    return r;
}

// cvt.f32.f16: exact.
inline float panllama_emu_h2f(unsigned short h) {
    const unsigned sign = (unsigned) (h & 0x8000u) << 16;
    const unsigned e = (h >> 10) & 31u, m = h & 0x3FFu;
    if (e == 31) return __uint_as_float(sign | 0x7F800000u | (m << 13));  // inf, NaN
    if (e == 0) {                                                          // zero, subnormal: m * 2^-24
        const float f = (float) m * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    return __uint_as_float(sign | ((e + 112) << 23) | (m << 13));
}

// cvt.rn.f16.f32: round to nearest, ties to even; overflow to infinity; NaN to the canonical 0x7FFF.
inline unsigned short panllama_emu_f2h(float f) {
    const unsigned x = __float_as_uint(f);
    const unsigned sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return 0x7FFF;
    if (ax >= 0x477FF000u) return (unsigned short) (sign | 0x7C00u);  // >= 65520 rounds to infinity
    unsigned h, rem, halfway, shift;
    if (ax >= 0x38800000u) {  // a normal half: rebias the exponent, keep 10 mantissa bits
        shift = 13;
        h = (ax - 0x38000000u) >> shift;
        rem = ax & 0x1FFFu;
    } else {                  // a subnormal half: units of 2^-24
        if (ax <= 0x33000000u) return (unsigned short) sign;  // <= 2^-25 rounds to zero (a tie at 2^-25)
        const unsigned m = (ax & 0x7FFFFFu) | 0x800000u;
        shift = 126 - (ax >> 23);  // 14..24
        h = m >> shift;
        rem = m & ((1u << shift) - 1);
    }
    halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1u))) h++;  // a carry may move into the exponent: right
    return (unsigned short) (sign | h);
}

// ---- the fiber scheduler -------------------------------------------------------------------------

namespace panllama_emu {

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stdout, "error %s\n", what);
    std::fflush(stdout);
    std::exit(3);
}

enum class State { Ready, AtBlockBarrier, AtWarpBarrier, Done };

struct Fiber {
    ucontext_t ctx;
    char* stack = nullptr;
    State state = State::Ready;
    unsigned mask = 0;      // of the warp barrier it waits at
    unsigned exchange = 0;  // shuffles done (selects the slot array; see shuffle)
};

constexpr int kMaxThreads = 1024;
constexpr size_t kStack = 256 * 1024;  // per fiber; a guard page below each

struct Block {
    std::vector<Fiber> fibers;
    int current = -1;
    ucontext_t scheduler;
    const std::function<void()>* kernel = nullptr;
    // Shuffle slots: [parity][warp][lane]. Consecutive shuffles of a warp alternate parity, so a lane
    // that already left shuffle n can write shuffle n+1's value without overwriting one still unread.
    uint64_t slots[2][kMaxThreads / 32][32];
};

inline Block& block() {
    static Block b;
    return b;
}

inline int linear_tid() { return (int) (threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)); }

inline void set_thread_index(int tid) {
    threadIdx.x = tid % blockDim.x;
    threadIdx.y = (tid / blockDim.x) % blockDim.y;
    threadIdx.z = tid / (blockDim.x * blockDim.y);
}

// Back to the scheduler, in the given state; returns when the scheduler resumes this fiber.
inline void wait(State s, unsigned mask = 0) {
    Block& b = block();
    Fiber& f = b.fibers[b.current];
    f.state = s;
    f.mask = mask;
    if (swapcontext(&f.ctx, &b.scheduler) != 0) fail("swapcontext failed");
}

inline void fiber_main() {
    Block& b = block();
    (*b.kernel)();
    b.fibers[b.current].state = State::Done;
    setcontext(&b.scheduler);
}

inline char* new_stack() {
    void* p = mmap(nullptr, kStack + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("mmap of a fiber stack failed");
    mprotect(p, 4096, PROT_NONE);  // an overflow faults instead of corrupting the next stack
    return (char*) p + 4096;
}

// The warps whose waiting lanes can go on: for each warp with a lane at a warp barrier, every lane of
// that lane's mask must be waiting there with the same mask. Returns whether any were released.
inline bool release_warps(int nThreads) {
    Block& b = block();
    bool released = false;
    for (int w0 = 0; w0 < nThreads; w0 += 32) {
        int first = -1;
        for (int i = w0; i < w0 + 32 && i < nThreads; i++) {
            if (b.fibers[i].state == State::AtWarpBarrier) { first = i; break; }
        }
        if (first < 0) continue;
        const unsigned mask = b.fibers[first].mask;
        bool all = true;
        for (int lane = 0; lane < 32; lane++) {
            if (!(mask & (1u << lane))) continue;
            const int i = w0 + lane;
            char msg[200];
            if (i >= nThreads || b.fibers[i].state == State::Done) {
                std::snprintf(msg, sizeof msg, "warp %d: a shuffle or __syncwarp with mask 0x%08x names lane %d, which has %s",
                              w0 / 32, mask, lane, i >= nThreads ? "no thread" : "exited");
                fail(msg);
            }
            if (b.fibers[i].state == State::AtWarpBarrier && b.fibers[i].mask != mask) {
                std::snprintf(msg, sizeof msg, "warp %d: lanes wait at warp barriers with masks 0x%08x and 0x%08x",
                              w0 / 32, mask, b.fibers[i].mask);
                fail(msg);
            }
            if (b.fibers[i].state != State::AtWarpBarrier) all = false;
        }
        if (!all) continue;
        for (int lane = 0; lane < 32; lane++) {
            if (mask & (1u << lane)) b.fibers[w0 + lane].state = State::Ready;
        }
        released = true;
    }
    return released;
}

// Runs the kernel for every thread of the current block (blockIdx set by the caller).
inline void run_block(int nThreads) {
    Block& b = block();
    for (int i = 0; i < nThreads; i++) {
        Fiber& f = b.fibers[i];
        if (!f.stack) f.stack = new_stack();
        f.state = State::Ready;
        f.exchange = 0;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = kStack;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_main, 0);
    }
    for (int round = 0;; round++) {
        for (int n = 0; n < nThreads; n++) {
            const int i = (round & 1) ? nThreads - 1 - n : n;
            if (b.fibers[i].state != State::Ready) continue;
            b.current = i;
            set_thread_index(i);
            if (swapcontext(&b.scheduler, &b.fibers[i].ctx) != 0) fail("swapcontext failed");
        }
        b.current = -1;
        if (release_warps(nThreads)) continue;
        int done = 0, atBlock = 0;
        for (int i = 0; i < nThreads; i++) {
            done += b.fibers[i].state == State::Done;
            atBlock += b.fibers[i].state == State::AtBlockBarrier;
        }
        if (done == nThreads) return;
        if (done + atBlock == nThreads) {  // __syncthreads: every live thread has arrived
            for (int i = 0; i < nThreads; i++) {
                if (b.fibers[i].state == State::AtBlockBarrier) b.fibers[i].state = State::Ready;
            }
            continue;
        }
        char msg[200];
        std::snprintf(msg, sizeof msg, "deadlock in block (%u, %u, %u): %d threads at __syncthreads, %d at warp barriers that cannot complete, %d exited",
                      blockIdx.x, blockIdx.y, blockIdx.z, atBlock, nThreads - done - atBlock, done);
        fail(msg);
    }
}

// Exchange through the warp's slots: every lane of mask stores v, they meet, each reads lane src.
template <class T>
T shuffle(unsigned mask, T v, int src) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffles move at most 8 bytes");
    Block& b = block();
    const int tid = linear_tid(), warp = tid / 32, lane = tid % 32;
    if (!(mask & (1u << lane))) fail("a lane shuffles with a mask that does not include it");
    Fiber& f = b.fibers[tid];
    const unsigned parity = f.exchange++ & 1u;
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    b.slots[parity][warp][lane] = bits;
    wait(State::AtWarpBarrier, mask);
    // A source lane outside the mask gives an undefined value on the GPU; here, the lane's own.
    const uint64_t r = (mask & (1u << src)) ? b.slots[parity][warp][src] : bits;
    T out;
    std::memcpy(&out, &r, sizeof out);
    return out;
}

inline int lane_id() { return linear_tid() % 32; }

}  // namespace panllama_emu

inline void __syncthreads() { panllama_emu::wait(panllama_emu::State::AtBlockBarrier); }

inline void __syncwarp(unsigned mask = 0xFFFFFFFFu) { panllama_emu::wait(panllama_emu::State::AtWarpBarrier, mask); }

template <class T>
T __shfl_sync(unsigned mask, T v, int srcLane, int width = 32) {
    const int lane = panllama_emu::lane_id();
    return panllama_emu::shuffle(mask, v, (lane & ~(width - 1)) + (srcLane & (width - 1)));
}

template <class T>
T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32) {
    const int lane = panllama_emu::lane_id();
    int src = lane ^ laneMask;
    if (src >= ((lane / width) + 1) * width) src = lane;  // beyond the lane's segment: its own value
    return panllama_emu::shuffle(mask, v, src);
}

template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    const int lane = panllama_emu::lane_id();
    const int src = (lane % width) + (int) delta < width ? lane + (int) delta : lane;
    return panllama_emu::shuffle(mask, v, src);
}

template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    const int lane = panllama_emu::lane_id();
    const int src = (lane % width) >= (int) delta ? lane - (int) delta : lane;
    return panllama_emu::shuffle(mask, v, src);
}

// kernel<<<grid, block>>>(args): `kernel` is a closure calling the kernel with its arguments.
inline void panllama_emu_launch(dim3 grid, dim3 blk, const std::function<void()>& kernel) {
    using namespace panllama_emu;
    const long long n = (long long) blk.x * blk.y * blk.z;
    if (n < 1 || n > kMaxThreads) fail("a block must have 1 to 1024 threads");
    Block& b = block();
    if ((int) b.fibers.size() < n) b.fibers.resize(kMaxThreads);
    b.kernel = &kernel;
    blockDim = blk;
    gridDim = grid;
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3{x, y, z};
                run_block((int) n);
            }
        }
    }
    b.kernel = nullptr;
}
