// The cgroup parsers against text captured from real kernels (this hybrid host, the VM's
// pure v2 6.1, a systemd v2 desktop, an old v1 distro).
#include <gtest/gtest.h>

#include "cgroup/drivers.hpp"
#include "cgroup/parse.hpp"

namespace cell::cgroup {
namespace {

TEST(ProcCgroup, HybridHostLines) {
  const auto l = parse_proc_cgroup(
      "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/f1c1\n2:cpu,cpuacct:/a:b\n0::/\n");
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[0].hierarchy, 9);
  EXPECT_TRUE(l[0].controllers.empty());  // name= hierarchies have no controllers
  EXPECT_EQ(l[2].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ(l[2].path, "/process_api/f1c1");
  EXPECT_EQ(l[3].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(l[3].path, "/a:b");
  EXPECT_EQ(l[4].hierarchy, 0);
  EXPECT_EQ(l[4].path, "/");
}

TEST(ProcCgroup, SkipsGarbage) {
  EXPECT_TRUE(parse_proc_cgroup("").empty());
  EXPECT_TRUE(parse_proc_cgroup("x:y:z\nno colons\n").empty());
}

TEST(Mountinfo, FindsV1AndV2CgroupMounts) {
  const auto m = parse_mountinfo_cgroups(
      "24 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
      "30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu\n"
      "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct,clone_children\n"
      "32 25 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "33 25 0:29 /user.slice /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
      "34 25 0:30 / /mnt/with\\040space rw - cgroup2 none rw\n");
  ASSERT_EQ(m.size(), 5u);
  EXPECT_FALSE(m[0].v2);
  EXPECT_EQ(m[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(m[0].controllers, std::vector<std::string>{"cpu"});
  EXPECT_EQ(m[1].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_TRUE(m[2].controllers.empty());
  EXPECT_TRUE(m[3].v2);
  EXPECT_EQ(m[3].root, "/user.slice");
  EXPECT_EQ(m[4].mount_point, "/mnt/with space");
}

TEST(FlatKeyed, ReadsCgroupFiles) {
  const auto cpu = parse_flat_keyed("usage_usec 1013000\nuser_usec 1010000\nsystem_usec 3000\n");
  EXPECT_EQ(cpu.at("usage_usec"), 1013000u);
  EXPECT_EQ(cpu.at("system_usec"), 3000u);
  const auto ev = parse_flat_keyed("low 0\nhigh 0\nmax 38\noom 1\noom_kill 1\noom_group_kill 1\n");
  EXPECT_EQ(ev.at("max"), 38u);
  EXPECT_EQ(ev.at("oom_kill"), 1u);
  const auto oom = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_EQ(oom.at("oom_kill"), 2u);
  EXPECT_TRUE(parse_flat_keyed("some avg10=0.00 avg60=0.00\n").empty());
}

TEST(U64, NumbersAndMax) {
  EXPECT_EQ(parse_u64("104857600\n"), 104857600u);
  EXPECT_EQ(parse_u64("max\n"), UINT64_MAX);
  EXPECT_EQ(parse_u64("9223372036854771712"), 9223372036854771712u);
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("12k"));
  EXPECT_FALSE(parse_u64("-1"));
}

TEST(Pids, OnePerLine) {
  EXPECT_EQ(parse_pids("12\n345\n\n"), (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(parse_pids("").empty());
}

TEST(StatStarttime, CommWithSpacesAndParens) {
  const std::string stat =
      "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 987654 1000000 100 "
      "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  EXPECT_EQ(parse_stat_starttime(stat), 987654u);
  EXPECT_FALSE(parse_stat_starttime("1 (x) S 1 2"));
}

TEST(KernelVersion, Release) {
  EXPECT_EQ(parse_kernel_version("6.1.0-56-amd64"), 6001);
  EXPECT_EQ(parse_kernel_version("5.7.0"), 5007);
  EXPECT_EQ(parse_kernel_version("6.18.44-fc-v595"), 6018);
  EXPECT_FALSE(parse_kernel_version("garbage"));
}

TEST(CpuQuota, FromCpus) {
  EXPECT_EQ(cpu_quota_us(1.5, 100000), 150000u);
  EXPECT_EQ(cpu_quota_us(0.5, 100000), 50000u);
  EXPECT_EQ(cpu_quota_us(0.001, 100000), 1000u);  // the kernel's minimum
}

TEST(LeafNames, OwnerIsRecoverable) {
  const std::string name = format_run_leaf_name(1234, 987654, 7);
  EXPECT_EQ(name, "cell-1234-987654-7");
  const auto o = run_leaf_owner(name);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->pid, 1234);
  EXPECT_EQ(o->starttime, 987654u);
  EXPECT_FALSE(run_leaf_owner("cell-1234-7"));
  EXPECT_FALSE(run_leaf_owner("cell-self-1234"));
  EXPECT_FALSE(run_leaf_owner("cell-x-1-2"));
  EXPECT_FALSE(run_leaf_owner("other-1-2-3"));
  EXPECT_EQ(self_leaf_owner(self_leaf_name(99)), 99);
  EXPECT_FALSE(self_leaf_owner(name));
}

TEST(ResolveParent, RelativeAbsoluteAndMountPaths) {
  EXPECT_EQ(*resolve_parent("/sys/fs/cgroup", "judge.slice/cell"),
            "/sys/fs/cgroup/judge.slice/cell");
  EXPECT_EQ(*resolve_parent("/sys/fs/cgroup", "/judge.slice//cell/"),
            "/sys/fs/cgroup/judge.slice/cell");
  EXPECT_EQ(*resolve_parent("/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/a"),
            "/sys/fs/cgroup/memory/a");
  EXPECT_FALSE(resolve_parent("/sys/fs/cgroup", "a/../../etc").ok());
}

}  // namespace
}  // namespace cell::cgroup
