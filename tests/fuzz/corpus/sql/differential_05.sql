SELECT count() FROM user_behavior
