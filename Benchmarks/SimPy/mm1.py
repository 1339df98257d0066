"""M/M/1 in SimPy, written the way its documentation teaches: a source process that creates
customers at exponential intervals, each customer a process that requests a one-place Resource,
holds it for an exponential service time, and records its time in the system.

    python mm1.py CUSTOMERS RHO SEED

prints one JSON line: the seconds env.run() took, the customers served, and their mean time in
the system (1 / (mu - lambda) = 10 at rho = 0.9, mu = 1), so a reader can check that both
simulators simulated the same thing.
"""
import json
import random
import sys
import time

import simpy


def main():
    customers, rho, seed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    total = [0.0, 0]

    def customer():
        arrived = env.now
        with server.request() as request:
            yield request
            yield env.timeout(rng.expovariate(1.0))
        total[0] += env.now - arrived
        total[1] += 1

    def source():
        for _ in range(customers):
            yield env.timeout(rng.expovariate(rho))
            env.process(customer())

    env.process(source())
    start = time.perf_counter()
    env.run()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "customers": total[1], "meanTimeInSystem": total[0] / total[1]}))


if __name__ == "__main__":
    main()
