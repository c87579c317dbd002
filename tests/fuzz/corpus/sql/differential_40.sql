SELECT count() FROM user_behavior WHERE NOT (action = 'click' OR gender = 'F')
