// The scheduler and runtime calls of the CUDA host emulation (include/cuda_runtime.h).
//
// A block's threads are fibers (a stack and a saved context each). Each round resumes every
// runnable thread once; a thread runs until it ends or waits at a barrier (__syncthreads, or the
// two halves of a warp shuffle).
// Between rounds the waits are resolved: a warp whose lanes all wait at a shuffle goes on; else,
// when every live thread waits at __syncthreads, all go on. Anything else (threads at different
// barriers, a barrier some threads have left the kernel without reaching) is a divergent barrier,
// undefined on a GPU: the emulation stops with a message. Rounds alternate between ascending and
// descending thread order, so a read of shared memory that lacks its barrier sees different
// values in the two orders and shows up as a wrong result.
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#define NASFAST_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NASFAST_EMU_ASAN 1
#endif
#endif
#ifdef NASFAST_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "cuda_runtime.h"

uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
dim3 blockDim, gridDim;

namespace nasfast_emu {
namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr size_t kDefaultSharedBytes = 48 * 1024, kMaxSharedBytes = 227 * 1024;

enum class Wait { kNone, kBlock, kWarp };

[[noreturn]] void fiber_start();  // a thread's first instructions: the kernel, then back

#if defined(__x86_64__)
// A context switch that saves only the callee-saved registers: glibc's swapcontext also saves
// the signal mask, a system call per switch, which made the emulation 10x slower.
struct Context {
  void* sp = nullptr;
  const void* bottom = nullptr;  // the stack, for AddressSanitizer
  size_t size = 0;
};
extern "C" void nasfast_emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl nasfast_emu_switch
.type nasfast_emu_switch, @function
nasfast_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size nasfast_emu_switch, .-nasfast_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");
// A fresh stack whose first switch "returns" into fiber_start, entered as a called function
// (rsp = 8 mod 16).
void make_context(Context& c, char* stack, size_t bytes) {
  auto top = reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t(15);
  auto* sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;                                // fiber_start's return address: none
  *--sp = reinterpret_cast<void*>(&fiber_start);  // where the switch's ret goes
  for (int r = 0; r < 6; ++r) *--sp = nullptr;    // rbp, rbx, r12-r15
  c.sp = sp;
}
void raw_switch(Context& from, Context& to) { nasfast_emu_switch(&from.sp, to.sp); }
#else
struct Context {
  ucontext_t uc;
  const void* bottom = nullptr;  // the stack, for AddressSanitizer
  size_t size = 0;
};
void make_context(Context& c, char* stack, size_t bytes) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, reinterpret_cast<void (*)()>(&fiber_start), 0);
}
void raw_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

struct Fiber {
  Context ctx;
  std::unique_ptr<char[]> stack;
  Wait wait = Wait::kNone;
  bool done = false;
  unsigned char offer[8];
};

Context g_scheduler;

// A switch that follows AddressSanitizer's fiber protocol when it is on (it must know which stack
// runs); `from_ends`: the thread leaving will never run again.
void switch_context(Context& from, Context& to, bool from_ends = false) {
#ifdef NASFAST_EMU_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(from_ends ? nullptr : &fake_stack, to.bottom, to.size);
#endif
  raw_switch(from, to);
#ifdef NASFAST_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  (void)from_ends;
}

void prepare_context(Context& c, char* stack, size_t bytes) {
#ifdef NASFAST_EMU_ASAN
  __asan_unpoison_memory_region(stack, bytes);  // a finished thread's last frame stays poisoned
#endif
  c.bottom = stack;
  c.size = bytes;
  make_context(c, stack, bytes);
}
std::vector<Fiber> g_fibers(kMaxThreads);
unsigned g_threads = 0, g_current = 0;
const std::function<void()>* g_body = nullptr;
cudaError_t g_last_error = cudaSuccess;
uint64_t g_launches = 0;
std::map<const void*, size_t> g_shared_limit;  // per kernel, raised by cudaFuncSetAttribute
std::vector<double> g_dynamic_shared;          // doubles: aligned for any element type

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "cuda_emu: %s (block (%u, %u, %u) of grid (%u, %u, %u), %u threads)\n", what,
               blockIdx.x, blockIdx.y, blockIdx.z, gridDim.x, gridDim.y, gridDim.z, g_threads);
  std::abort();
}

void fiber_start() {
#ifdef NASFAST_EMU_ASAN
  // the scheduler's stack (the thread's own): where every thread switches back to
  __sanitizer_finish_switch_fiber(nullptr, &g_scheduler.bottom, &g_scheduler.size);
#endif
  (*g_body)();
  Fiber& f = g_fibers[g_current];
  f.done = true;
  switch_context(f.ctx, g_scheduler, /*from_ends=*/true);  // never resumed
  std::abort();
}

void wait_at(Wait w) {
  Fiber& f = g_fibers[g_current];
  f.wait = w;
  switch_context(f.ctx, g_scheduler);
}

void resume(unsigned t) {
  g_current = t;
  threadIdx = {t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
  switch_context(g_scheduler, g_fibers[t].ctx);
}

// Releases the threads whose barrier is complete; false when none is (a divergent barrier).
bool release_barriers() {
  bool released = false;
  for (unsigned w0 = 0; w0 < g_threads; w0 += warpSize) {
    const unsigned w1 = std::min(g_threads, w0 + unsigned(warpSize));
    unsigned at_shuffle = 0;
    for (unsigned t = w0; t < w1; ++t) at_shuffle += g_fibers[t].wait == Wait::kWarp;
    if (at_shuffle == 0) continue;
    if (at_shuffle != w1 - w0) fail("a warp shuffle that not every lane of the warp reached");
    for (unsigned t = w0; t < w1; ++t) g_fibers[t].wait = Wait::kNone;
    released = true;
  }
  if (released) return true;
  unsigned live = 0, at_barrier = 0;
  for (unsigned t = 0; t < g_threads; ++t) {
    live += !g_fibers[t].done;
    at_barrier += g_fibers[t].wait == Wait::kBlock;
  }
  if (at_barrier == 0) return false;
  if (at_barrier != g_threads) fail("a __syncthreads that not every thread of the block reached");
  for (unsigned t = 0; t < g_threads; ++t) g_fibers[t].wait = Wait::kNone;
  return live > 0;
}

void run_block() {
  for (unsigned t = 0; t < g_threads; ++t) {
    Fiber& f = g_fibers[t];
    if (!f.stack) f.stack.reset(new char[kStackBytes]);
    prepare_context(f.ctx, f.stack.get(), kStackBytes);
    f.done = false;
    f.wait = Wait::kNone;
  }
  for (unsigned round = 0;; ++round) {
    for (unsigned i = 0; i < g_threads; ++i) {
      const unsigned t = round % 2 ? g_threads - 1 - i : i;
      if (!g_fibers[t].done && g_fibers[t].wait == Wait::kNone) resume(t);
    }
    bool any_live = false;
    for (unsigned t = 0; t < g_threads; ++t) any_live = any_live || !g_fibers[t].done;
    if (!any_live) return;
    if (!release_barriers()) fail("threads wait at different barriers");
  }
}

}  // namespace

cudaError_t run_grid(const void* kernel, dim3 grid, dim3 block, size_t shmem,
                     const std::function<void()>& body) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > kMaxThreads || block.z > 64 || grid.x == 0 || grid.y == 0 ||
      grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return cudaErrorInvalidConfiguration;
  const auto limit = g_shared_limit.find(kernel);
  if (shmem > (limit == g_shared_limit.end() ? kDefaultSharedBytes : limit->second))
    return cudaErrorInvalidValue;
  g_dynamic_shared.resize((shmem + sizeof(double) - 1) / sizeof(double));
  ++g_launches;
  gridDim = grid;
  blockDim = block;
  g_threads = unsigned(threads);
  g_body = &body;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = {x, y, z};
        // NaN bits in every block, so a read before any write shows
        std::fill(g_dynamic_shared.begin(), g_dynamic_shared.end(), std::nan(""));
        run_block();
      }
  return cudaSuccess;
}

void set_last_error(cudaError_t e) { g_last_error = e; }

uint64_t launch_count() { return g_launches; }

void* dynamic_shared() { return g_dynamic_shared.data(); }

cudaError_t set_max_dynamic_shared(const void* kernel, int bytes) {
  if (bytes < 0 || size_t(bytes) > kMaxSharedBytes) return cudaErrorInvalidValue;
  g_shared_limit[kernel] = size_t(bytes);
  return cudaSuccess;
}

unsigned lane_id() { return g_current % warpSize; }

void warp_exchange(const void* v, size_t bytes, unsigned src_lane, void* out) {
  const unsigned self = g_current, src = self - self % warpSize + src_lane;
  if (src >= g_threads) fail("a warp shuffle from a lane outside the block");
  std::memcpy(g_fibers[self].offer, v, bytes);
  wait_at(Wait::kWarp);  // every lane has offered its value
  std::memcpy(out, g_fibers[src].offer, bytes);
  wait_at(Wait::kWarp);  // every lane has read before any offers again
}

}  // namespace nasfast_emu

void __syncthreads() { nasfast_emu::wait_at(nasfast_emu::Wait::kBlock); }

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    default: return "unknown error";
  }
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = nasfast_emu::g_last_error;
  nasfast_emu::g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) {
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFreeAsync(void* p, cudaStream_t) {
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind,
                            cudaStream_t) {
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
