// A CPU-bound loop with a fixed amount of work, for comparing the speed of a program inside a
// sandbox with the same program outside. Built static so it runs in any root.
//
//   spin ITERATIONS    prints: <loop wall ns> <process CPU ns> <result>
//
// The loop is a chain of dependent multiply-adds (an LCG), so neither the compiler nor the CPU
// can shorten it, and it makes no system calls (seccomp filters are never consulted).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  const unsigned long long n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000000ULL;
  unsigned long long x = 88172645463325252ULL;
  const long long w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
  for (unsigned long long i = 0; i < n; ++i)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  const long long w1 = ns(CLOCK_MONOTONIC), c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
  printf("%lld %lld %llu\n", w1 - w0, c1 - c0, x);
  return 0;
}
