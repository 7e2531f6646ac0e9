// Label selector parsing (the `labelSelector` query string). Properties:
//  - parse throws nothing but SelectorError (whose message names the selector);
//  - a parsed selector prints (str()) to text that parses to the same requirements, and
//    printing that again gives the same text (a fixed point);
//  - every key is a valid label key and every value a valid label value;
//  - the reparsed selector matches exactly the same label sets, for sets built from the
//    selector's own keys and values (present, absent, other value).
#include "fuzz_check.hpp"
#include "watch/selector.hpp"

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace fdb::kube;

namespace {

bool same(const std::vector<Requirement>& a, const std::vector<Requirement>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].op != b[i].op || a[i].values != b[i].values) return false;
  }
  return true;
}

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

void check_key(const std::string& key) {
  const auto slash = key.find('/');
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  FUZZ_CHECK(!name.empty() && name.size() <= 63 && alnum(name.front()) && alnum(name.back()));
  if (slash != std::string::npos) FUZZ_CHECK(slash > 0 && slash <= 253);
}

void check_value(const std::string& v) {
  if (v.empty()) return;
  FUZZ_CHECK(v.size() <= 63 && alnum(v.front()) && alnum(v.back()));
  FUZZ_CHECK(v.find('/') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  LabelSelector sel;
  try {
    sel = LabelSelector::parse(text);
  } catch (const SelectorError& e) {
    FUZZ_CHECK(std::string_view(e.what()).rfind("label selector \"", 0) == 0);
    return 0;
  }
  for (const auto& r : sel.requirements()) {
    check_key(r.key);
    for (const auto& v : r.values) check_value(v);
    const bool one = r.op == Requirement::Op::Equals || r.op == Requirement::Op::NotEquals;
    const bool set = r.op == Requirement::Op::In || r.op == Requirement::Op::NotIn;
    FUZZ_CHECK(one ? r.values.size() == 1 : set ? !r.values.empty() : r.values.empty());
  }
  const std::string printed = sel.str();
  LabelSelector again;
  try {
    again = LabelSelector::parse(printed);
  } catch (const SelectorError& e) {
    std::fprintf(stderr, "the printed form does not parse: %s\n", e.what());
    FUZZ_CHECK(!"str() of a parsed selector parses");
  }
  FUZZ_CHECK(same(sel.requirements(), again.requirements()));
  FUZZ_CHECK(again.str() == printed);
  FUZZ_CHECK(sel.empty() == again.empty());

  // Label sets from the selector's own vocabulary.
  std::vector<Labels> sets(3);
  for (const auto& r : sel.requirements()) {
    sets[0][r.key] = r.values.empty() ? "x" : r.values.front();
    sets[1][r.key] = "zz-other";
    if (r.values.size() > 1) sets[2][r.key] = r.values.back();
  }
  sets.emplace_back();  // nothing set
  for (const auto& labels : sets) FUZZ_CHECK(sel.matches(labels) == again.matches(labels));
  return 0;
}
