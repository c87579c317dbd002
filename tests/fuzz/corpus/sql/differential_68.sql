SELECT id, s, lc FROM all_types WHERE s IN ('北京', 'it\'s quoted', 'tab\there', '') OR lc = 'tab\tin lc' ORDER BY id
