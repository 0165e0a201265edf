"""Fake rollout stages for the gate's tests: hosts with history, a baseline, a push, a soak."""

from ansible_collections.pyosquery.fleet.plugins.module_utils.gate import judge
from ansible_collections.pyosquery.fleet.plugins.module_utils.shard import machine_shard
from ansible_collections.pyosquery.fleet.tests.unit.plugins.schedule_data import FakeAgent, cost

NEW = "pack_rollout_users"
CHEAP = cost(cpu_ms=20, wall_ms=25, memory=0, output_size=300)


class Stage:
    """A stage of fake hosts: some history, a baseline, the push, a soak, the current figures."""

    def __init__(self, count=5, shard=None, history=900, other_cost=None, other_jitter=0.1, seed=0):
        self.agents = {}
        self.shard = shard
        for number in range(1, count + 1):
            agent = FakeAgent("host-%d" % number, seed=seed)
            agent.add("pack_base_procs", 10, other_cost or cost(cpu_ms=8, wall_ms=9), jitter=other_jitter)
            agent.add("pack_base_ports", 30, other_cost or cost(cpu_ms=3, wall_ms=4), jitter=other_jitter)
            agent.tick(history)
            self.agents[agent.hostname] = agent
        self.baselines = {host: agent.read() for host, agent in self.agents.items()}
        self.currents = None

    def in_shard(self, host):
        return not self.shard or machine_shard(host) <= self.shard

    def push(self, new_cost=None, interval=20, name=NEW):
        for host, agent in self.agents.items():
            if self.in_shard(host):
                agent.add(name, interval, new_cost or CHEAP)
        return self

    def soak(self, seconds=300, midway=None):
        for agent in self.agents.values():
            agent.tick(seconds / 2.0)
        if midway:
            midway(self.agents)
        for agent in self.agents.values():
            agent.tick(seconds / 2.0)
        self.currents = {host: agent.read(since=self.baselines[host]) for host, agent in self.agents.items()}
        return self

    def judge(self, queries=(NEW,), **options):
        options.setdefault("stage", {"name": "canary", "shard": self.shard})
        return judge(self.currents, self.baselines, queries=list(queries), **options)


def cheap_stage(**options):
    return Stage(**options).push().soak()


def slow_others(factor, hosts=None):
    def slow(agents):
        for host, agent in agents.items():
            if hosts is None or host in hosts:
                agent.set_cost("pack_base_procs", cost(cpu_ms=8 * factor, wall_ms=9 * factor))
                agent.set_cost("pack_base_ports", cost(cpu_ms=3 * factor, wall_ms=4 * factor))
    return slow


COSTLY = "pack_rollout_costly"


def mixed_stage(costly=None, count=5):
    """A stage given a cheap query and a second one, COSTLY, with the cost given."""
    return Stage(count=count).push().push(costly or cost(cpu_ms=2500, wall_ms=2600), name=COSTLY)
