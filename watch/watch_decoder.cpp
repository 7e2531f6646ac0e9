#include "watch/watch_decoder.hpp"

#include "watch/simd_pack.hpp"

namespace fdb::kube {

WatchDecoder::WatchDecoder(const std::optional<FieldMask>& mask, bool transform, KeyTable& keys, bool fast) {
  if (!mask) return;
  if (fast && !transform) packing_ = std::make_unique<PackingEventDecoder>(*mask, keys);
  else masked_ = std::make_unique<MaskedEventDecoder>(*mask, fast);
}

WatchDecoder::~WatchDecoder() = default;

WatchEvent WatchDecoder::decode(std::string_view line, boost::json::storage_ptr storage) {
  if (packing_) return packing_->decode(line, std::move(storage));
  if (masked_) return masked_->decode(line, std::move(storage));
  return decode_event(line, std::move(storage));
}

void WatchDecoder::set_key_hint(std::function<void(std::string_view key)> hint) {
  if (packing_) packing_->set_key_hint(std::move(hint));
}

FastCounts WatchDecoder::fast_counts() const noexcept {
  if (packing_) return packing_->fast_counts();
  return masked_ ? masked_->fast_counts() : FastCounts{};
}

}  // namespace fdb::kube
