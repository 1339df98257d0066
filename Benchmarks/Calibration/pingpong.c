/*
 * The load generator's calibration: a minimal C client, one call at a time on one connection.
 * It sends the same request frame (written beforehand by the protocol's synthesizer) again and
 * again, reads each answer whole (its length from the frame's own length field), and times each
 * round trip with the monotonic clock. Nothing in it can cost less, so the difference between
 * its median and the generator's on the same server is the generator's own overhead.
 *
 *   cc -O2 -o pingpong pingpong.c
 *   pingpong HOST PORT FRAME_FILE LENGTH_OFFSET LENGTH_ADD CALLS
 *
 * The answer's length is the big-endian 32-bit field at LENGTH_OFFSET plus LENGTH_ADD (Dubbo:
 * 12 and 16; Thrift framed: 0 and 4; LivePacket: 4 and 0). Prints the round trips' p50, p90 and
 * p99 in nanoseconds, one per line, after a warm-up of a tenth of the calls.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int read_exactly(int fd, unsigned char *buffer, size_t count) {
    size_t done = 0;
    while (done < count) {
        ssize_t n = read(fd, buffer + done, count - done);
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: pingpong HOST PORT FRAME_FILE LENGTH_OFFSET LENGTH_ADD CALLS\n");
        return 2;
    }
    long offset = atol(argv[4]), add = atol(argv[5]), calls = atol(argv[6]);
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror("frame file"); return 1; }
    static unsigned char request[1 << 21], answer[1 << 21];
    size_t request_size = fread(request, 1, sizeof request, f);
    fclose(f);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &address.sin_addr);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 1; }

    long warm = calls / 10;
    uint64_t *times = malloc(sizeof(uint64_t) * (size_t)calls);
    for (long i = 0; i < warm + calls; i++) {
        uint64_t start = now_ns();
        if (write(fd, request, request_size) != (ssize_t)request_size) { perror("write"); return 1; }
        size_t head = (size_t)offset + 4;
        if (read_exactly(fd, answer, head) != 0) { fprintf(stderr, "connection closed\n"); return 1; }
        uint32_t length = ((uint32_t)answer[offset] << 24) | ((uint32_t)answer[offset + 1] << 16) | ((uint32_t)answer[offset + 2] << 8) | answer[offset + 3];
        size_t total = (size_t)length + (size_t)add;
        if (total > sizeof answer || total < head) { fprintf(stderr, "bad answer length %zu\n", total); return 1; }
        if (read_exactly(fd, answer + head, total - head) != 0) { fprintf(stderr, "connection closed\n"); return 1; }
        if (i >= warm) times[i - warm] = now_ns() - start;
    }
    qsort(times, (size_t)calls, sizeof(uint64_t), compare);
    printf("%llu\n%llu\n%llu\n", (unsigned long long)times[calls / 2], (unsigned long long)times[calls * 9 / 10], (unsigned long long)times[calls * 99 / 100]);
    return 0;
}
