// kernel_emulator: runs the kernels of gpu/src/main/cuda on the CPU (see cuda_emulation.h) as a list of
// launches says. KernelEmulationTest writes the list and the input files, compiles this file with
//   g++ -std=c++17 -O1 -ffp-contract=off -fsanitize=alignment -fno-sanitize-recover=alignment
//       -DPANLLAMA_HOST_EMULATION
//       -I gpu/src/test/cuda -I gpu/src/main/cuda kernel_emulator.cpp
// runs `kernel_emulator DIR` and compares the output files with its Java reference. All checking of
// results is in Java; this program only launches, and checks that a kernel wrote nothing outside its
// output buffers.
//
// DIR/launches.txt: one launch a line,
//   <id> <kernel> <grid.x> <grid.y> <block.x> <block.y> <arg>...
// with one <arg> per kernel parameter, in order:
//   in:FILE:MIS           a read-only buffer holding DIR/FILE, starting MIS bytes past a 256-byte boundary
//   out:FILE:BYTES:MIS    a buffer of BYTES bytes of 0xFF (a NaN as float, and as half), written to DIR/FILE
//   inout:IN:OUT:MIS      DIR/IN, written to DIR/OUT after the launch (in-place kernels)
//   same:N                the same pointer as argument N (0-based) of this launch
//   i:V  l:V  f:V         int, long long, float (C syntax; hex floats keep every bit)
// Every buffer has 256 guard bytes of 0xA5 on each side; after the launch they, and the contents of
// every `in` buffer, must be unchanged.
//
// Prints "begin <id>" before and "end <id>" after each launch (so a crash names its launch), and
// "error <message>" before exiting with status 3 when a launch breaks a rule or the list is malformed.
#include "cuda_emulation.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>

// Each module in its own namespace: they share helper names (h2f, F4, ...).
namespace matvec {
#include "matvec.cu"
}
namespace dequant {
#include "dequant.cu"
}
namespace ops {
#include "ops.cu"
}
namespace attention {
#include "attention.cu"
}

namespace {

constexpr size_t kGuard = 256;
constexpr unsigned char kGuardByte = 0xA5;

std::string dir;
std::string where;  // the launch being set up, for messages

[[noreturn]] void bad(const std::string& what) { panllama_emu::fail((where + ": " + what).c_str()); }

std::vector<unsigned char> read_file(const std::string& name) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    if (!in) bad("cannot read " + name);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, sep)) parts.push_back(part);
    return parts;
}

long long to_long(const std::string& s) {
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end) bad("not an integer: " + s);
    return v;
}

// One pointer argument: storage with guards, where the kernel's pointer points, what to check after.
struct Buffer {
    std::vector<unsigned char> storage;
    unsigned char* data = nullptr;
    size_t bytes = 0;
    std::vector<unsigned char> original;  // an `in` buffer's contents
    std::string outFile;                  // where `out` and `inout` buffers go

    Buffer(const std::vector<unsigned char>& contents, size_t size, size_t misalign, unsigned char fill) {
        storage.assign(size + 2 * kGuard + 512, kGuardByte);
        const uintptr_t base = ((uintptr_t) storage.data() + kGuard + 255) & ~(uintptr_t) 255;
        data = (unsigned char*) base + misalign;
        bytes = size;
        std::memset(data, fill, size);
        if (!contents.empty()) std::memcpy(data, contents.data(), contents.size());
    }

    // The first guard byte the kernel overwrote, as an offset from data (negative: before it), if any.
    bool guard_broken(long long& at) const {
        for (size_t i = 0; i < kGuard; i++) {
            if (data[-(long long) kGuard + (long long) i] != kGuardByte) { at = -(long long) kGuard + (long long) i; return true; }
            if (data[bytes + i] != kGuardByte) { at = (long long) (bytes + i); return true; }
        }
        return false;
    }
};

struct Args {
    std::vector<std::string> tokens;
    std::vector<std::unique_ptr<Buffer>> owned;
    std::vector<Buffer*> buffers;  // per argument (null for scalars)
    size_t next = 0;

    const std::string& take(const char* kind) {
        if (next >= tokens.size()) bad(std::string("too few arguments (wanted a ") + kind + ")");
        buffers.push_back(nullptr);
        return tokens[next++];
    }

    void* pointer() {
        const std::string& t = take("pointer");
        if (t == "null") return nullptr;  // an optional pointer left out
        const std::vector<std::string> p = split(t, ':');
        Buffer* b = nullptr;
        if (p[0] == "in" && p.size() == 3) {
            const std::vector<unsigned char> c = read_file(p[1]);
            owned.emplace_back(new Buffer(c, c.size(), (size_t) to_long(p[2]), 0));
            b = owned.back().get();
            b->original = c;
        } else if (p[0] == "out" && p.size() == 4) {
            owned.emplace_back(new Buffer({}, (size_t) to_long(p[2]), (size_t) to_long(p[3]), 0xFF));
            b = owned.back().get();
            b->outFile = p[1];
        } else if (p[0] == "inout" && p.size() == 4) {
            const std::vector<unsigned char> c = read_file(p[1]);
            owned.emplace_back(new Buffer(c, c.size(), (size_t) to_long(p[3]), 0));
            b = owned.back().get();
            b->outFile = p[2];
        } else if (p[0] == "same" && p.size() == 2) {
            const long long n = to_long(p[1]);
            if (n < 0 || n >= (long long) buffers.size() - 1 || !buffers[n]) bad("same:" + p[1] + " is not an earlier pointer argument");
            buffers.back() = buffers[n];
            return buffers[n]->data;
        } else {
            bad("not a pointer argument: " + t);
        }
        buffers.back() = b;
        return b->data;
    }

    std::string scalar(const char* prefix) {
        const std::string& t = take(prefix);
        if (t.rfind(prefix, 0) != 0) bad("argument " + std::to_string(next - 1) + " is " + t + ", wanted " + prefix + "...");
        return t.substr(std::string(prefix).size());
    }

    template <class T>
    T get() {
        if constexpr (std::is_pointer<T>::value) {
            return (T) pointer();
        } else if constexpr (std::is_same<T, int>::value) {
            const long long v = to_long(scalar("i:"));
            if (v != (int) v) bad("int out of range: " + std::to_string(v));
            return (int) v;
        } else if constexpr (std::is_same<T, long long>::value) {
            return to_long(scalar("l:"));
        } else if constexpr (std::is_same<T, float>::value) {
            const std::string s = scalar("f:");
            char* end = nullptr;
            const float v = std::strtof(s.c_str(), &end);
            if (s.empty() || *end) bad("not a float: " + s);
            return v;
        } else {
            static_assert(sizeof(T) == 0, "a kernel parameter type the launch list cannot express");
        }
    }
};

// A kernel's arguments read from the list (in parameter order: a braced list evaluates left to right)
// and bound into a closure.
template <class... P>
std::function<void()> bind_args(void (*kernel)(P...), Args& a) {
    std::tuple<P...> values{a.get<P>()...};
    if (a.next != a.tokens.size()) bad("too many arguments");
    return [kernel, values] { std::apply(kernel, values); };
}

using Binder = std::function<std::function<void()>(Args&)>;

template <class... P>
Binder binder(void (*kernel)(P...)) {
    return [kernel](Args& a) { return bind_args(kernel, a); };
}

const std::map<std::string, Binder>& kernels() {
#define K(ns, name) {#name, binder(&ns::name)}
    static const std::map<std::string, Binder> m = {
        K(matvec, mv_f32), K(matvec, mv_f16), K(matvec, mv_bf16), K(matvec, mv_q8_0), K(matvec, mv_q4_0),
        K(matvec, mv_q4_k), K(matvec, mv_q5_k), K(matvec, mv_q6_k), K(matvec, mv_iq4_xs),
        K(dequant, dq_f32_f16), K(dequant, dq_f16_f16), K(dequant, dq_bf16_f16), K(dequant, dq_q8_0_f16),
        K(dequant, dq_q4_0_f16), K(dequant, dq_q4_k_f16), K(dequant, dq_q5_k_f16), K(dequant, dq_q6_k_f16),
        K(dequant, dq_iq4_xs_f16), K(dequant, f32_to_f16),
        K(ops, rmsnorm_f32), K(ops, rope_f32), K(ops, swiglu_f32),
        K(ops, add_f32), K(ops, add_rows_f32), K(ops, copy_rows_f32), K(ops, moe_combine_f32),
        K(attention, attention_f32),
    };
#undef K
    return m;
}

void run(const std::string& line) {
    std::istringstream in(line);
    std::string id, name;
    unsigned gx, gy, bx, by;
    if (!(in >> id >> name >> gx >> gy >> bx >> by)) {
        where = "launches.txt";
        bad("malformed line: " + line);
    }
    where = "launch " + id + " (" + name + ")";
    auto k = kernels().find(name);
    if (k == kernels().end()) bad("no such kernel");
    Args a;
    for (std::string t; in >> t;) a.tokens.push_back(t);
    const std::function<void()> kernel = k->second(a);

    std::printf("begin %s\n", id.c_str());
    std::fflush(stdout);
    panllama_emu_launch(dim3{gx, gy, 1}, dim3{bx, by, 1}, kernel);

    for (size_t i = 0; i < a.owned.size(); i++) {
        const Buffer& b = *a.owned[i];
        long long at;
        if (b.guard_broken(at)) bad("wrote outside a buffer, at byte offset " + std::to_string(at) + " of it");
        if (!b.original.empty() && std::memcmp(b.original.data(), b.data, b.bytes) != 0) bad("wrote into an input buffer");
        if (!b.outFile.empty()) {
            std::ofstream out(dir + "/" + b.outFile, std::ios::binary);
            out.write((const char*) b.data, (std::streamsize) b.bytes);
            if (!out) bad("cannot write " + b.outFile);
        }
    }
    std::printf("end %s\n", id.c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: kernel_emulator DIR (reads DIR/launches.txt)\n");
        return 2;
    }
    dir = argv[1];
    std::ifstream list(dir + "/launches.txt");
    if (!list) {
        where = "launches.txt";
        bad("cannot read it");
    }
    int n = 0;
    for (std::string line; std::getline(list, line);) {
        if (line.empty() || line[0] == '#') continue;
        run(line);
        n++;
    }
    std::printf("done %d\n", n);
    return 0;
}
