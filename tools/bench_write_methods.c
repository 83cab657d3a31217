// Benchmark (not a test): CPU time per MB of writing a file by five methods, the question behind
// "could a capture be written more cheaply than with write(2)?" (BENCHMARKS.md). Built and run by
// tools/bench-write-methods. The source is one 256 KiB buffer, written over and over (hot in cache).
//   write          write(2) of 256 KiB chunks
//   dropbehind     the same, with sync_file_range + POSIX_FADV_DONTNEED 4 MiB behind (FileCaptureStorage)
//   direct         O_DIRECT from an aligned buffer: no page-cache copy
//   mmap           a shared mapping of the preallocated file, 16 MiB windows, faulted page by page
//   mmap-populate  the same, each window populated with MADV_POPULATE_WRITE before the copy
//
//   bench_write_methods MODE PATH MB
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static int write_all(int fd, const char *p, size_t n) {
    if (write(fd, p, n) != (ssize_t)n) {
        perror("bench_write_methods: write");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 || atol(argv[3]) <= 0) {
        fprintf(stderr, "usage: bench_write_methods write|dropbehind|direct|mmap|mmap-populate PATH MB\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    const size_t chunk = 256 << 10, window = 16 << 20, step = 4 << 20;
    size_t total = (size_t)atol(argv[3]) << 20;
    total -= total % window;
    char *src = aligned_alloc(4096, chunk);
    for (size_t i = 0; i < chunk; i++) src[i] = (char)(i * 7 + 1);
    int direct = strcmp(mode, "direct") == 0;
    int mapped = strncmp(mode, "mmap", 4) == 0;
    if (!direct && !mapped && strcmp(mode, "write") != 0 && strcmp(mode, "dropbehind") != 0) {
        fprintf(stderr, "bench_write_methods: unknown mode %s\n", mode);
        return 2;
    }
    unlink(path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0), 0600);
    if (fd < 0) {
        perror("bench_write_methods: open");
        return 1;
    }
    double start = cpu_seconds();
    if (!mapped) {
        size_t written_back = 0, dropped = 0;
        for (size_t off = 0; off < total; off += chunk) {
            if (write_all(fd, src, chunk) != 0) return 1;
            size_t end = off + chunk;
            if (strcmp(mode, "dropbehind") == 0 && end - written_back >= step) {
                sync_file_range(fd, written_back, end - written_back, SYNC_FILE_RANGE_WRITE);
                written_back = end;
                if (end > step + dropped) {
                    size_t upto = end - step;
                    sync_file_range(fd, dropped, upto - dropped,
                                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
                    posix_fadvise(fd, dropped, upto - dropped, POSIX_FADV_DONTNEED);
                    dropped = upto;
                }
            }
        }
    } else {
        if (fallocate(fd, 0, 0, total) != 0) {
            perror("bench_write_methods: fallocate");
            return 1;
        }
        for (size_t w = 0; w < total; w += window) {
            char *m = mmap(NULL, window, PROT_READ | PROT_WRITE, MAP_SHARED, fd, w);
            if (m == MAP_FAILED) {
                perror("bench_write_methods: mmap");
                return 1;
            }
            if (strcmp(mode, "mmap-populate") == 0 && madvise(m, window, MADV_POPULATE_WRITE) != 0) {
                perror("bench_write_methods: madvise");
                return 1;
            }
            for (size_t o = 0; o < window; o += chunk) memcpy(m + o, src, chunk);
            munmap(m, window);
        }
    }
    double written = cpu_seconds();
    fsync(fd);
    double synced = cpu_seconds();
    double mb = (double)(total >> 20);
    printf("%-14s %6.0f us CPU/MB to the last write, %6.0f with fsync\n", mode, (written - start) / mb * 1e6,
           (synced - start) / mb * 1e6);
    close(fd);
    unlink(path);
    return 0;
}
