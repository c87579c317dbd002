#include "workloads/user_behavior.h"

namespace shardlab::workloads {

void UserBehaviorBlock::resize(size_t rows) {
  user_id.resize(rows);
  item_id.resize(rows);
  action.resize(rows);
  event_time.resize(rows);
  province.resize(rows);
  gender.resize(rows);
}

}  // namespace shardlab::workloads
