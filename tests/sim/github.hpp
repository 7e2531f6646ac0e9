// A small GitHub REST stand-in for kube-sim (--github-listen): the calls the bridge makes —
// GET /repos/{owner}/{repo}/branches/{branch}, GET /repos/{owner}/{repo}/pulls/{n} and
// GET /repos/{owner}/{repo}/commits/{sha}/check-runs
// — over state that tests set through control routes on the same listener:
//   POST /_sim/github/branch  {repo, branch}           a branch exists (DELETE: it does not)
//   POST /_sim/github/pull    {repo, number, state, merged, headRef, headSha, baseRef,
//                              mergeable, mergeableState, draft}   create or replace a PR
//   POST /_sim/github/fault   {path, count, status, retryAfter, body}  the next `count`
//                              requests whose path starts with `path` get `status`
//   POST /_sim/github/public  {repo}                    a public repository (DELETE: private)
//   POST /_sim/github/checks  {repo, sha, runs: [{status, conclusion}]}  the check runs of a
//                              commit (GET /repos/{o}/{r}/commits/{sha}/check-runs; none by default)
//   GET  /_sim/github/requests  every request served, "GET /repos/…" in order
//   GET  /_sim/github/anonymous {anonymous}: requests served without a token
// Requests without an Authorization header get 401, like the API for private repos,
// unless the repository is public (then they are answered, as GitHub answers them).
// Pure: requests in, answers out.
#pragma once

#include "sim/dispatch.hpp"

#include <boost/json/array.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace fdb::sim {

struct GitHubPull {
  std::string repo;
  int number = 0;
  std::string state = "open";
  bool merged = false;
  bool draft = false;
  std::string head_ref, head_sha, base_ref = "main";
  std::string mergeable = "true";  // "true", "false" or "null" (still computing)
  std::string mergeable_state = "clean";
};

class GitHub {
 public:
  HttpAnswer handle(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& authorization);

 private:
  struct Fault {
    std::string path;
    int count = 0;
    int status = 500;
    int retry_after = -1;
    std::string body;
  };
  HttpAnswer control(const std::string& method, const std::string& path, const std::string& body);

  std::set<std::string> branches_;           // "owner/repo\nbranch"
  std::map<std::string, GitHubPull> pulls_;  // "owner/repo#n"
  std::vector<Fault> faults_;
  std::vector<std::string> requests_;
  std::set<std::string> public_;  // "owner/repo" readable without a token
  std::map<std::string, boost::json::array> checks_;  // "owner/repo@sha" → check runs
  std::int64_t anonymous_ = 0;
};

}  // namespace fdb::sim
