/*
 * The live kernel's side of `shootdown kernel-check`: one workload on this
 * host's kernel, with the tlb:tlb_flush trace point on, bracketed by two
 * trace_marker lines so that only the measured operation's events are read.
 *
 *   kernel-check WORKLOAD PAGES OPCPU READERCPU MARKER
 *
 * WORKLOAD is munmap, madvise (MADV_DONTNEED) or mprotect (PROT_READ). The
 * main thread, pinned to OPCPU, maps PAGES private anonymous pages (no huge
 * pages, so every pte is a 4 KiB one), writes each, and starts a reader of
 * the same mm pinned to READERCPU that reads every page until told to stop,
 * then spins on a flag in user mode: its TLB holds the pages and its cpu is
 * in mm_cpumask and not lazy while the operation runs. MARKER is the path of
 * tracefs's trace_marker. Prints one JSON line: the pids whose events count.
 *
 * The layout is fixed, so the flushed ranges do not depend on where ASLR
 * puts the mapping: inside a PROT_NONE reservation aligned to 2 MiB, a
 * read-only guard page at the first page of a pmd, the PAGES pages right
 * after it, and another read-only guard page right after them. The guards
 * keep the first and last pte tables (free_pgtables' floor and ceiling) and
 * every upper table, as the model's kernel-check scenario does.
 *
 * Every wait is bounded: a spinning thread gives up after SPIN_LIMIT tries.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define SPIN_LIMIT 2000000000L
#define PAGES_MAX (1L << 20)
#define PMD_BYTES (2L << 20)

enum phase { READING, SPINNING, DONE };

static volatile char *region;
static long pages;
static int reader_cpu;
static atomic_int phase = READING;
static atomic_int reader_state = -1;
static atomic_long reader_tid;

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("sched_setaffinity");
    exit(3);
  }
}

static void *reader(void *arg) {
  (void)arg;
  pin(reader_cpu);
  atomic_store(&reader_tid, (long)syscall(SYS_gettid));
  long sum = 0;
  for (long pass = 0; pass < SPIN_LIMIT && atomic_load(&phase) == READING; pass++) {
    for (long i = 0; i < pages; i++) sum += region[i * PAGE];
    atomic_store(&reader_state, READING);
  }
  atomic_store(&reader_state, SPINNING);
  for (long i = 0; i < SPIN_LIMIT && atomic_load(&phase) == SPINNING; i++) {
  }
  return (void *)sum;
}

static int wait_for(atomic_int *word, int value) {
  for (long i = 0; i < SPIN_LIMIT; i++)
    if (atomic_load(word) == value) return 1;
  return 0;
}

static void marker(int fd, const char *text) {
  if (write(fd, text, strlen(text)) < 0) {
    perror("trace_marker");
    exit(3);
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: kernel-check munmap|madvise|mprotect PAGES OPCPU READERCPU MARKER\n");
    return 2;
  }
  const char *workload = argv[1];
  pages = atol(argv[2]);
  int op_cpu = atoi(argv[3]);
  reader_cpu = atoi(argv[4]);
  if (pages <= 0 || pages > PAGES_MAX) {
    fprintf(stderr, "kernel-check: pages must be in 1..%ld\n", PAGES_MAX);
    return 2;
  }
  int fd = open(argv[5], O_WRONLY);
  if (fd < 0) {
    perror("open trace_marker");
    return 3;
  }
  pin(op_cpu);
  long span = (pages + 2) * PAGE + PMD_BYTES;
  char *reserved = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) {
    perror("mmap reservation");
    return 3;
  }
  char *base = (char *)(((unsigned long)reserved + PMD_BYTES - 1) & ~(PMD_BYTES - 1));
  volatile char *guard_lo = mmap(base, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  region = mmap(base + PAGE, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  volatile char *guard_hi = mmap(base + (pages + 1) * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (guard_lo == MAP_FAILED || region == MAP_FAILED || guard_hi == MAP_FAILED) {
    perror("mmap");
    return 3;
  }
  madvise((void *)region, pages * PAGE, MADV_NOHUGEPAGE);
  (void)guard_lo[0];
  (void)guard_hi[0];
  for (long i = 0; i < pages; i++) region[i * PAGE] = 1;
  pthread_t thread;
  if (pthread_create(&thread, NULL, reader, NULL) != 0) return 3;
  if (!wait_for(&reader_state, READING)) return 4;
  atomic_store(&phase, SPINNING);
  if (!wait_for(&reader_state, SPINNING)) return 4;

  marker(fd, "shootdown-check begin\n");
  int rc = 0;
  if (strcmp(workload, "munmap") == 0) rc = munmap((void *)region, pages * PAGE);
  else if (strcmp(workload, "madvise") == 0) rc = madvise((void *)region, pages * PAGE, MADV_DONTNEED);
  else if (strcmp(workload, "mprotect") == 0) rc = mprotect((void *)region, pages * PAGE, PROT_READ);
  else {
    fprintf(stderr, "kernel-check: unknown workload %s\n", workload);
    return 2;
  }
  marker(fd, "shootdown-check end\n");
  if (rc != 0) {
    perror(workload);
    return 3;
  }
  atomic_store(&phase, DONE);
  pthread_join(thread, NULL);
  printf("{\"pid\":%ld,\"readerTid\":%ld}\n", (long)getpid(), atomic_load(&reader_tid));
  return 0;
}
