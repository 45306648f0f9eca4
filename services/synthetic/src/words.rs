//! Word lists of the synthetic catalog: common words of Chinese and English
//! children's and school book titles, names and subjects. Space-separated
//! so the lists stay readable.

/// Common words of Chinese book titles (mostly two characters, as in real
/// titles; some one, three and four).
pub const ZH_WORDS: &str = "森林 恐龙 动物 故事 科学 世界 秘密 王子 朋友 妈妈 爸爸 学校 星星 月亮 太阳 海洋 宇宙 魔法 冒险 旅行 \
城市 花园 春天 夏天 秋天 冬天 童话 历史 中国 数学 英雄 小猫 小狗 兔子 老虎 狮子 大象 熊猫 猴子 小鸟 \
蝴蝶 蚂蚁 蜜蜂 青蛙 乌龟 鲸鱼 鲨鱼 海豚 企鹅 狐狸 狼 小熊 小猪 小羊 奶奶 爷爷 外婆 老师 同学 孩子 \
男孩 女孩 公主 国王 巨人 精灵 机器人 火箭 飞机 火车 汽车 轮船 地球 火山 河流 高山 草原 沙漠 天空 \
雨 雪 风 云 彩虹 花朵 大树 种子 叶子 果实 苹果 西瓜 面包 蛋糕 糖果 厨房 房子 小屋 城堡 宫殿 \
桥 路 梦想 勇气 快乐 幸福 成长 友谊 爱 希望 时间 声音 颜色 形状 数字 文字 诗歌 唐诗 宋词 成语 \
寓言 神话 传说 笑话 谜语 百科 全书 图鉴 手册 日记 信 书 图书馆 博物馆 动物园 医院 农场 超市 \
少年 儿童 青春 人生 哲学 思维 阅读 写作 作文 语文 英语 物理 化学 生物 地理 天文 气象 环境 自然 \
植物 昆虫 鸟类 鱼类 细菌 身体 健康 营养 运动 足球 篮球 游泳 跑步 音乐 绘画 舞蹈 手工 游戏 \
侦探 探险 海盗 宝藏 地图 迷宫 岛屿 北极 南极 丛林 雨林 湖泊 大海 沙滩 星空 银河 行星 外星人 \
未来 过去 古代 现代 长城 故宫 黄河 长江 北京 上海 丝绸之路 三国 西游记 水浒 红楼梦 孙悟空 \
小王子 安徒生 格林 伊索 夏洛 哈利 波特 小妇人 鲁滨逊 汤姆 小飞侠 木偶 灰姑娘 白雪 睡美人 \
一只 一个 两只 三个 我的 你的 他的 我们 大大的 小小的 好朋友 新年 生日 节日 春节 中秋 端午 \
晚安 早安 你好 谢谢 再见 为什么 怎么办 是什么 十万个 第一次 最后 神奇 奇妙 美丽 可爱 勇敢 聪明";

/// Common words of English book titles.
pub const EN_WORDS: &str = "the little big great secret magic forest dinosaur animal story science world friend mother father \
school star moon sun ocean space adventure journey city garden spring summer autumn winter fairy history \
china math hero cat dog rabbit tiger lion elephant panda monkey bird butterfly ant bee frog turtle whale shark \
dolphin penguin fox wolf bear pig sheep grandma grandpa teacher child children boy girl princess king giant \
elf robot rocket plane train car ship earth volcano river mountain desert sky rain snow wind cloud rainbow \
flower tree seed leaf apple cake candy kitchen house castle palace bridge road dream courage happy family \
time sound color shape number word poem poetry fable myth legend joke riddle encyclopedia guide handbook \
diary letter book library museum zoo hospital farm market young youth life philosophy thinking reading \
writing english physics chemistry biology geography astronomy weather nature plant insect fish health sport \
football basketball swimming music painting dance craft game detective explorer pirate treasure map maze \
island arctic jungle lake sea beach night galaxy planet alien future ancient modern wonder wonderful amazing \
brave clever first last new old day week year home school charlotte web wizard oz alice wonderland peter \
pan hobbit narnia matilda charlie chocolate factory giraffe crocodile hungry caterpillar wild things where \
goodnight good morning hello thank you why how what when who under over around inside outside beyond";

/// Chinese family names, most common first.
pub const ZH_SURNAMES: &str = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 \
彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 \
付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤";

/// Characters of Chinese given names.
pub const ZH_GIVEN: &str = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 文 华 红 玲 飞 鹏 辉 建 \
国 志 海 宇 晨 欣 怡 佳 琪 子 涵 轩 浩 然 博 思 雨 萱 梓 睿 一 诺 嘉 瑞 晓 东 春 秋 冰 心 梅 兰 竹 菊 \
云 山 水 天 月 星 光 安 乐 宁 和 正 德 仁 义 礼 智 信";

/// English given names.
pub const EN_GIVEN: &str = "james mary john patricia robert jennifer michael linda william elizabeth david barbara richard \
susan joseph jessica thomas sarah charles karen roald beatrix lewis laura eric maurice judith jon mo \
kate emily oliver sophie jack lucy harry anna leo ella max ruby sam grace ben chloe tom emma";

/// English family names.
pub const EN_FAMILY: &str = "smith johnson williams brown jones garcia miller davis wilson anderson taylor thomas moore \
martin jackson white harris clark lewis robinson walker young allen king wright scott green baker adams \
nelson carter mitchell dahl potter carroll milne sendak carle seuss rowling lewis tolkien white wilder \
klassen willems donaldson scheffler walliams morpurgo";

/// Chinese subject headings.
pub const ZH_SUBJECTS: &str = "儿童文学 图画书 科普读物 童话 寓言 诗歌 散文 小说 历史故事 自然科学 动物 植物 天文学 \
地理 数学 语文 英语学习 艺术 音乐 体育 心理健康 安全教育 传统文化 科幻小说 侦探小说 名人传记";

/// English subject headings.
pub const EN_SUBJECTS: &str = "picture books fiction fantasy adventure animals science nature history biography poetry \
mathematics space dinosaurs friendship family school humor mystery fairy tales folklore art music sports";

/// Publishers.
pub const PUBLISHERS: &str = "人民文学出版社 少年儿童出版社 接力出版社 二十一世纪出版社 江苏少年儿童出版社 \
中国少年儿童出版社 明天出版社 新蕾出版社 浙江少年儿童出版社 长江少年儿童出版社 HarperCollins Scholastic \
Penguin Random-House Macmillan Puffin Candlewick";

/// CLC (中图法) class numbers used for Chinese titles.
pub const CLC_CLASSES: &str = "I287 I287.45 I287.5 I287.7 I287.8 I247 I207 I712 I561 Q95 Q94 P1 P2 O1 N49 Z228 \
K209 K810 J2 J6 G62 G63 H31 H1 R1 S6 TP3 U4 X2";

/// Dewey class numbers used for English titles.
pub const DEWEY_CLASSES: &str = "813 823 811 398.2 500 520 551 567.9 590 597 599 610 629.4 741.5 780 796 808 \
909 920 940 973 030 372.4";
